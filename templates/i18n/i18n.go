// Package i18n holds sendguard's one message catalog (ja.json, en.json) and
// its one language rule. It imports nothing of sendguard, so every package
// that writes text a person reads — pages, notices, the note that replaces
// attachments, the DSN's human part — can use it without pulling in a
// store or the policy.
//
// Invariants:
//   - Both catalogs hold the same keys (tested).
//   - A missing key renders as [key], never as silence.
//   - Japanese leads every bilingual text unless default_language says
//     otherwise.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed ja.json en.json
var files embed.FS

// Languages sendguard speaks, the default first.
var languages = [...]string{"ja", "en"}

// Default is the language of every page and mail when the configuration
// names none (config default_language): sendguard is made for Japanese
// offices.
const Default = "ja"

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

// Ordered returns the supported languages with first (when supported)
// leading: the order of a bilingual mail. An unsupported or empty first
// means Default.
func Ordered(first string) []string {
	if !Supported(first) {
		first = Default
	}
	out := []string{first}
	for _, l := range languages {
		if l != first {
			out = append(out, l)
		}
	}
	return out
}

// For is the languages a mail is written in: lang alone when the reader's
// language is known, else every language with def leading.
func For(lang, def string) []string {
	if Supported(lang) {
		return []string{lang}
	}
	return Ordered(def)
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
	return Default
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

// Catalog maps message keys to text per language. It is read-only after
// Load and safe for concurrent use.
type Catalog struct {
	msgs map[string]map[string]string
}

// Load reads the embedded catalog of every supported language.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: make(map[string]map[string]string, len(languages))}
	for _, lang := range languages {
		b, err := files.ReadFile(lang + ".json")
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

// embedded is the catalog parsed once: it is read-only, so every caller
// can share it.
var embedded = sync.OnceValues(Load)

// MustLoad returns the embedded catalog, parsed on first use, for callers
// that cannot proceed without it: it is embedded and checked by tests, so
// a failure is a build defect.
func MustLoad() *Catalog {
	c, err := embedded()
	if err != nil {
		panic(err)
	}
	return c
}

// FormatTime writes t in loc (nil: UTC) for lang, with the zone's name:
// "2026年4月2日(木) 18:00 JST", "Thu 2 Apr 2026 18:00 JST". The zero time
// is "".
func (c *Catalog) FormatTime(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	nth := func(key string, i int) string {
		if f := strings.Split(c.T(lang, key), ","); i < len(f) {
			return f[i]
		}
		return "?"
	}
	return c.T(lang, "time.date", t.Year(), int(t.Month()), t.Day(), nth("time.weekdays", int(t.Weekday())),
		t.Format("15:04 MST"), nth("time.months", int(t.Month())-1))
}

// Has reports whether key exists in lang.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// Lookup returns key's text in lang and whether it exists.
func (c *Catalog) Lookup(lang, key string) (string, bool) {
	s, ok := c.msgs[lang][key]
	return s, ok
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
