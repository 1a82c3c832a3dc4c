package templates

import (
	"slices"
	"strings"

	"github.com/sendguard/sendguard/templates/i18n"
)

// DefaultLanguage is i18n.Default, the language when the configuration
// names none.
const DefaultLanguage = i18n.Default

// Ordered is i18n.Ordered: the order of a bilingual mail.
func Ordered(first string) []string { return i18n.Ordered(first) }

// Pick is i18n.Pick, the one language rule of pages.
func Pick(choice, acceptLanguage, def string) string { return i18n.Pick(choice, acceptLanguage, def) }

// Languages returns the supported language tags.
func Languages() []string { return i18n.Languages() }

// Supported reports whether lang has a catalog.
func Supported(lang string) bool { return i18n.Supported(lang) }

// Negotiate is i18n.Negotiate.
func Negotiate(accept string) string { return i18n.Negotiate(accept) }

// Catalog is the one catalog (i18n.Catalog) with the explanations pages
// and notices give of a held message.
type Catalog struct {
	*i18n.Catalog
}

// LoadCatalog reads the embedded catalog.
func LoadCatalog() (*Catalog, error) {
	c, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	return &Catalog{c}, nil
}

// Rule explains a policy rule by name; a rule the catalog does not know
// gets a title from what it did to the message, never its raw name.
func (c *Catalog) Rule(lang, name, kind string) string {
	if s, ok := c.Lookup(lang, "rule."+name); ok {
		return s
	}
	if s, ok := c.Lookup(lang, "why.kind."+kind); ok {
		return s
	}
	return c.T(lang, "why.other")
}

// Why is the reader's "why held" list: for each rule that decided, the
// policy's own reason in lang (or the other language when the policy gave
// only one), else the catalog's explanation of the rule, else a title from
// the hold kind; each text once.
func (c *Catalog) Why(lang string, s Summary) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.TrimSpace(OneLine(t))
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	byRule := map[string]Reason{}
	for _, r := range s.Reasons {
		if r.Rule != "" {
			if _, dup := byRule[r.Rule]; !dup {
				byRule[r.Rule] = r
			}
		}
	}
	for _, name := range s.Rules {
		if r, ok := byRule[name]; ok {
			add(reasonText(r, lang))
			continue
		}
		add(c.Rule(lang, name, s.Kind))
	}
	for _, r := range s.Reasons {
		if r.Rule == "" || !slices.Contains(s.Rules, r.Rule) {
			add(reasonText(r, lang))
		}
	}
	return out
}

func reasonText(r Reason, lang string) string {
	if lang == "en" && r.EN != "" || r.JA == "" {
		return r.EN
	}
	return r.JA
}

// Unscannable says in plain words why a part could not be checked. The
// analyser's reason ("unreadable PDF: not a PDF file: invalid header") is
// for the console and logs; senders read one of a few sentences.
func (c *Catalog) Unscannable(lang, reason string) string {
	r := strings.ToLower(reason)
	key := "unscan.broken"
	switch {
	case r == "":
		return ""
	case strings.Contains(r, "encrypted"):
		key = "unscan.encrypted"
	case strings.Contains(r, "zip bomb") || strings.Contains(r, "limit") || strings.Contains(r, "inflates") || strings.Contains(r, "walk stopped"):
		key = "unscan.limit"
	case strings.Contains(r, "executable"):
		key = "unscan.executable"
	case strings.Contains(r, "not supported") || strings.Contains(r, "unsupported"):
		key = "unscan.format"
	case strings.Contains(r, "no extractable text"):
		key = "unscan.no_text"
	}
	return c.T(lang, key)
}

// Field names a recipient field (to, cc, bcc).
func (c *Catalog) Field(lang, f string) string { return c.TOr(lang, "field."+f, f) }

// Finding describes a finding in one line with its masked samples only.
func (c *Catalog) Finding(lang string, f FindingView) string {
	var b strings.Builder
	b.WriteString(c.TOr(lang, "detector."+f.Detector, f.Detector))
	b.WriteString(c.T(lang, "finding.count", f.Count))
	if f.Records > 0 {
		b.WriteString(c.T(lang, "finding.records", f.Records))
	}
	if f.Reason != "" {
		b.WriteString(" — " + c.Unscannable(lang, f.Reason))
	}
	if len(f.Samples) > 0 {
		b.WriteString(" (" + OneLine(strings.Join(f.Samples, ", ")) + ")")
	}
	return b.String()
}
