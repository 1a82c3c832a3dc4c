package templates

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Languages sendguard speaks.
var languages = [...]string{"ja", "en"}

// DefaultLanguage is the language of every page and mail when the
// configuration names none (config default_language): sendguard is made
// for Japanese offices.
const DefaultLanguage = "ja"

// Ordered returns the supported languages with first (when supported)
// leading: the order of a bilingual mail.
func Ordered(first string) []string {
	if !Supported(first) {
		first = DefaultLanguage
	}
	out := []string{first}
	for _, l := range languages {
		if l != first {
			out = append(out, l)
		}
	}
	return out
}

// Pick is the one language rule of pages: the reader's explicit choice,
// then the browser's Accept-Language, then def (the configured default).
func Pick(choice, acceptLanguage, def string) string {
	if Supported(choice) {
		return choice
	}
	if l := Negotiate(acceptLanguage); l != "" {
		return l
	}
	if Supported(def) {
		return def
	}
	return DefaultLanguage
}

// Languages returns the supported language tags.
func Languages() []string { return languages[:] }

// Supported reports whether lang has a catalog.
func Supported(lang string) bool {
	for _, l := range languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Catalog maps message keys to text per language. It is read-only after
// LoadCatalog.
type Catalog struct {
	msgs map[string]map[string]string
}

// LoadCatalog reads i18n/LANG.json for every supported language.
func LoadCatalog() (*Catalog, error) {
	c := &Catalog{msgs: make(map[string]map[string]string, len(languages))}
	for _, lang := range languages {
		b, err := fs.ReadFile(FS, "i18n/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("read catalog %s: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("decode catalog %s: %w", lang, err)
		}
		c.msgs[lang] = m
	}
	return c, nil
}

// Has reports whether key exists in lang.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// Keys returns the sorted keys of lang.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// T returns the text for key in lang, formatted with args when given. A
// missing key shows as [key] so that a gap is visible, never silent.
func (c *Catalog) T(lang, key string, args ...any) string {
	s, ok := c.msgs[lang][key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// TOr is T with a fallback for open-ended keys (rule and detector names).
func (c *Catalog) TOr(lang, key, fallback string) string {
	if s, ok := c.msgs[lang][key]; ok {
		return s
	}
	return fallback
}

// Negotiate picks a supported language from an Accept-Language header,
// honouring q-values; it returns "" when none matches.
func Negotiate(accept string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(accept, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				continue
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if Supported(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

// Rule explains a policy rule by name, or shows the name.
func (c *Catalog) Rule(lang, name string) string { return c.TOr(lang, "rule."+name, name) }

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
		b.WriteString(" — " + OneLine(f.Reason))
	}
	if len(f.Samples) > 0 {
		b.WriteString(" (" + OneLine(strings.Join(f.Samples, ", ")) + ")")
	}
	return b.String()
}
