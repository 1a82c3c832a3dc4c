package templates

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/sendguard/sendguard/hold"
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

// Rule explains a policy rule by name; a rule the catalog does not know
// gets a title from what it did to the message, never its raw name.
func (c *Catalog) Rule(lang, name string, kind hold.Kind) string {
	if s, ok := c.msgs[lang]["rule."+name]; ok {
		return s
	}
	if s, ok := c.msgs[lang]["why.kind."+string(kind)]; ok {
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
	byRule := map[string]hold.Reason{}
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

func reasonText(r hold.Reason, lang string) string {
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
