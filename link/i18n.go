package link

import (
	"embed"

	"github.com/sendguard/sendguard/templates"
)

//go:embed assets
var assets embed.FS

// catalog is the link pages' and mails' view of the one templates catalog:
// their keys live there under "link.".
type catalog struct{ c *templates.Catalog }

func loadCatalog() (catalog, error) {
	c, err := templates.LoadCatalog()
	return catalog{c}, err
}

// T translates key; a missing key shows as [link.key], so a test can find it.
func (c catalog) T(lang, key string, args ...any) string {
	return c.c.T(lang, "link."+key, args...)
}
