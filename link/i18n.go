package link

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/sendguard/sendguard/templates"
)

//go:embed assets
var assets embed.FS

// langs are the languages of the pages and mails, the first the fallback.
var langs = [...]string{"en", "ja"}

// catalog is the read-only message table of assets/i18n.json.
type catalog map[string]map[string]string

func loadCatalog() (catalog, error) {
	b, err := assets.ReadFile("assets/i18n.json")
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	var c catalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse catalog: %w", err)
	}
	for _, l := range langs {
		if c[l] == nil {
			return nil, fmt.Errorf("catalog lacks %s", l)
		}
	}
	return c, nil
}

// T translates key; a missing key shows as itself, so a test can find it.
func (c catalog) T(lang, key string, args ...any) string {
	s, ok := c[lang][key]
	if !ok {
		s, ok = c[langs[0]][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

func supported(lang string) bool { return slices.Contains(langs[:], lang) }

// negotiate picks a page language from Accept-Language, or "".
func negotiate(accept string) string {
	if l := templates.Negotiate(accept); supported(l) {
		return l
	}
	return ""
}
