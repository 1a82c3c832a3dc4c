package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sendguard/sendguard/rules/profile"
)

// EDM configures exact data match against the company's own records
// (`sendguard edm import`). It is on when KeyFile is set.
type EDM struct {
	// Index is the index file; empty means edm.idx in data_dir.
	Index string `yaml:"index"`
	// KeyFile holds the HMAC key the index was built with. Keep it 0600
	// and outside the index's directory (a copy of the data directory
	// must not carry it).
	KeyFile string `yaml:"key_file"`
}

// On reports whether exact data match is configured.
func (e EDM) On() bool { return e.KeyFile != "" }

// IndexPath is the index file for data directory dataDir.
func (e EDM) IndexPath(dataDir string) string {
	if e.Index != "" {
		return e.Index
	}
	return filepath.Join(dataDir, "edm.idx")
}

// Partner is one entry of the partner directory used by the addressee
// check: a company name and the mail domains it uses.
type Partner struct {
	Name    string   `yaml:"name"`
	Domains []string `yaml:"domains"`
	// Profile is how protected attachments reach this partner's domains
	// (see encrypt.domains); empty means the policy's action.
	Profile string `yaml:"profile"`
	// RequireTLS defers delivery to its domains until the next hop offers
	// STARTTLS (implied by profile plain).
	RequireTLS bool `yaml:"require_tls"`
}

func (v *validator) checkOwnData(c *Config) {
	if c.EDM.Index != "" && c.EDM.KeyFile == "" {
		v.add("edm.key_file", "required with edm.index")
	}
	if c.EDM.On() {
		kd, _ := filepath.Abs(filepath.Dir(c.EDM.KeyFile))
		id, _ := filepath.Abs(filepath.Dir(c.EDM.IndexPath(c.DataDir)))
		if kd == id {
			v.add("edm.key_file", "must not be in the index's directory %s", id)
		}
	}
	if _, err := c.Profiles(); err != nil {
		for _, e := range strings.Split(err.Error(), "\n") {
			key, msg, _ := strings.Cut(e, ": ")
			v.add(key, "%s", msg)
		}
	}
	for i, p := range c.Partners {
		key := fmt.Sprintf("partners[%d]", i)
		if strings.TrimSpace(p.Name) == "" {
			v.add(key+".name", "must not be empty")
		}
		if len(p.Domains) == 0 {
			v.add(key+".domains", "at least one domain")
		}
		for j, d := range p.Domains {
			if !validDomain(strings.TrimPrefix(d, "@")) {
				v.add(fmt.Sprintf("%s.domains[%d]", key, j), "%q is not a domain", d)
			}
		}
	}
}

// Profiles builds the per-domain protection profiles from
// encrypt.domains, encrypt.require_tls_domains and the partners'
// profile and require_tls. An explicit encrypt.domains entry overrides a
// partner's profile for that domain.
func (c *Config) Profiles() (*profile.Table, error) {
	var rules []profile.Rule
	var errs []error
	explicit := map[string]bool{}
	for d := range c.Encrypt.Domains {
		explicit[canonProfileDomain(d)] = true
	}
	tls := map[string]bool{}
	for _, d := range c.Encrypt.RequireTLSDomains {
		tls[canonProfileDomain(d)] = true
	}
	doms := make([]string, 0, len(c.Encrypt.Domains))
	for d := range c.Encrypt.Domains {
		doms = append(doms, d)
	}
	sort.Strings(doms)
	for _, d := range doms {
		k, err := profile.ParseKind(c.Encrypt.Domains[d])
		if err != nil {
			errs = append(errs, fmt.Errorf("encrypt.domains: %s: %w", d, err))
			continue
		}
		rules = append(rules, profile.Rule{Domain: d, Source: "encrypt.domains",
			Profile: profile.Profile{Kind: k, RequireTLS: tls[canonProfileDomain(d)]}})
	}
	for i, p := range c.Partners {
		if p.Profile == "" && !p.RequireTLS {
			continue
		}
		src := fmt.Sprintf("partners[%d].profile", i)
		k, err := profile.ParseKind(p.Profile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src, err))
			continue
		}
		for _, d := range p.Domains {
			if explicit[canonProfileDomain(d)] || !validDomain(strings.TrimPrefix(d, "@")) {
				continue // overridden, or reported as partners[i].domains[j]
			}
			rules = append(rules, profile.Rule{Domain: d, Source: src,
				Profile: profile.Profile{Kind: k, RequireTLS: p.RequireTLS || tls[canonProfileDomain(d)]}})
		}
	}
	for i, d := range c.Encrypt.RequireTLSDomains {
		if d == "*" {
			errs = append(errs, fmt.Errorf("encrypt.require_tls_domains[%d]: use delivery.tls: required for every domain", i))
			continue
		}
		covered := explicit[canonProfileDomain(d)]
		for _, p := range c.Partners {
			for _, pd := range p.Domains {
				covered = covered || (p.Profile != "" || p.RequireTLS) && canonProfileDomain(pd) == canonProfileDomain(d)
			}
		}
		if !covered {
			rules = append(rules, profile.Rule{Domain: d, Source: fmt.Sprintf("encrypt.require_tls_domains[%d]", i),
				Profile: profile.Profile{RequireTLS: true}})
		}
	}
	t, err := profile.New(rules)
	if err != nil || len(errs) > 0 {
		return nil, errors.Join(append(errs, err)...)
	}
	return t, nil
}

func canonProfileDomain(d string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "@"), ".")
}
