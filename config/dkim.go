package config

import (
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/sendguard/sendguard/crypto/dkim"
)

// DKIM configures DKIM signing of everything sendguard sends to the next
// hop (after every rewrite) and of its own notices and DSNs.
type DKIM struct {
	// Domains maps a From domain to its key. A From in a subdomain is
	// signed by the closest configured parent (DMARC relaxed alignment);
	// mail from other domains is sent unsigned.
	Domains map[string]DKIMDomain `yaml:"domains"`
}

// DKIMDomain is one signing domain. The key type (RSA of at least 2048
// bits, or Ed25519) is read from the key file.
type DKIMDomain struct {
	Selector string `yaml:"selector"`
	// KeyFile is a PEM private key (`sendguard dkim keygen` writes one);
	// readable by sendguard only.
	KeyFile string `yaml:"key_file"`
	// Headers are the signed header fields; empty means a default list
	// that oversigns From, Subject, To, Cc, Date, Message-ID and the MIME
	// fields.
	Headers []string `yaml:"headers"`
}

// SignerDomains lists the configured domains for dkim.New, sorted.
func (d DKIM) SignerDomains() []dkim.Domain {
	var out []dkim.Domain
	for name, c := range d.Domains {
		out = append(out, dkim.Domain{Name: name, Selector: c.Selector, KeyFile: c.KeyFile, Headers: c.Headers})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (v *validator) checkDKIM(d *DKIM) {
	for _, dom := range d.SignerDomains() {
		key := "dkim.domains." + dom.Name
		add := func(field, format string, args ...any) {
			v.problems = append(v.problems, Problem{Line: v.mapLine("dkim", "domains", dom.Name, field),
				Key: key + "." + field, Msg: fmt.Sprintf(format, args...)})
		}
		if !validDomain(dom.Name) {
			v.problems = append(v.problems, Problem{Line: v.mapLine("dkim", "domains", dom.Name),
				Key: key, Msg: fmt.Sprintf("%q is not a domain", dom.Name)})
		}
		if err := dkim.CheckSelector(dom.Selector); err != nil {
			add("selector", "%v", err)
		}
		if dom.Headers != nil {
			if err := dkim.CheckHeaders(dom.Headers); err != nil {
				add("headers", "%v", err)
			}
		}
		if dom.KeyFile == "" {
			add("key_file", "must not be empty")
		} else if _, err := dkim.LoadKey(dom.KeyFile); err != nil {
			add("key_file", "%v", err)
		}
	}
}

// mapLine finds the YAML line of a path of map keys (which, unlike the
// dotted keys of line, may contain dots: domain names). It is the line of
// the deepest key found.
func (v *validator) mapLine(path ...string) int {
	if v.root == nil || len(v.root.Content) == 0 {
		return 0
	}
	n, line := v.root.Content[0], 0
	for _, k := range path {
		found := false
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				n, line, found = n.Content[i+1], n.Content[i].Line, true
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}
