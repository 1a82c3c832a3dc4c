package link

import (
	"embed"

	"github.com/sendguard/sendguard/templates/i18n"
)

//go:embed assets
var assets embed.FS

// catalog is the link pages' and mails' view of the one catalog
// (templates/i18n): their keys live there under "link.".
type catalog struct{ c *i18n.Catalog }

// loadCatalog parses the embedded catalog (for a handler, once).
func loadCatalog() (catalog, error) {
	c, err := i18n.Load()
	if err != nil {
		return catalog{}, err
	}
	return catalog{c}, nil
}

// T translates key; a missing key shows as [link.key], so a test can find it.
func (c catalog) T(lang, key string, args ...any) string {
	return c.c.T(lang, "link."+key, args...)
}
