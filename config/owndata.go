package config

import (
	"fmt"
	"path/filepath"
	"strings"
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
