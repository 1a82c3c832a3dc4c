package recipients

import (
	"sort"
	"strings"

	"golang.org/x/net/idna"
)

// Match says which protected domain a look-alike resembles and why.
type Match struct {
	Resembles string // registrable domain of the internal or partner domain
	Reason    string // e.g. "homoglyph (rn/m)", "tld swap (.com → .org)"
}

// swapSuffixes are public suffixes a sender easily confuses with each other.
// A short label (three characters) counts as swapped only between these;
// longer labels count with any suffix.
var swapSuffixes = map[string]bool{
	"com": true, "net": true, "org": true, "co": true, "jp": true, "co.jp": true,
	"ne.jp": true, "or.jp": true, "ac.jp": true, "go.jp": true, "ad.jp": true,
	"gr.jp": true, "lg.jp": true, "ed.jp": true, "biz": true, "info": true,
	"io": true, "cm": true, "om": true, "cn": true, "com.cn": true, "asia": true,
}

// Thresholds, in visual length of the label's skeleton (see visualLen).
const (
	minSwapLabel     = 3 // identical label under a confusable suffix
	minAnySuffix     = 4 // identical label (or skeleton) under any suffix
	minEditLabel     = 5 // one edit
	minTwoEditsLabel = 9 // two edits
	// minPunctFlat bounds punctuation edits: the whole domain without its
	// dots and hyphens must be this long, so that short names that differ
	// only in punctuation (a-b.jp, ab.jp) are not confused.
	minPunctFlat = 8
)

// target is one protected registrable domain, pre-split and pre-folded.
type target struct {
	domain  string // canonical registrable domain, e.g. example.co.jp
	label   string // example
	suffix  string // co.jp
	skel    []rune // skeleton of label
	skelStr string
	notes   []string // what folding changed in the label (rn/m in "modern")
	dehyph  string   // skeleton without hyphens
	skelDom string   // skeleton of every label, dot-joined
	forms   []string // skelDom glued into one label: example-co-jp, examplecojp
	flat    string   // skelDom without dots and hyphens
	puncts  string   // its dots and hyphens in order
}

// LookalikeChecker finds domains that resemble protected (internal and
// partner) domains. It is immutable and safe for concurrent use.
type LookalikeChecker struct {
	targets []target
	exact   map[string]bool // registrable domains of the targets
}

// NewLookalikeChecker protects the given domains. Wildcard entries
// ("*.example.com") protect their apex; entries that cannot be normalised are
// ignored (the caller validates configuration).
func NewLookalikeChecker(domains ...string) *LookalikeChecker {
	c := &LookalikeChecker{exact: map[string]bool{}}
	for _, d := range domains {
		nd, err := NormalizeDomain(strings.TrimPrefix(d, "*."))
		if err != nil {
			continue
		}
		reg := registrable(nd)
		if c.exact[reg] {
			continue
		}
		c.exact[reg] = true
		label, suffix := splitRegistrable(reg)
		skel, notes := skeleton(unicodeLabel(label))
		skelDom := make([]string, 0, 3)
		for _, l := range strings.Split(reg, ".") {
			sl, _ := skeleton(unicodeLabel(l))
			skelDom = append(skelDom, sl)
		}
		sd := strings.Join(skelDom, ".")
		c.targets = append(c.targets, target{
			domain:  reg,
			label:   label,
			suffix:  suffix,
			skel:    []rune(skel),
			skelStr: skel,
			notes:   notes,
			dehyph:  strings.ReplaceAll(skel, "-", ""),
			skelDom: sd,
			forms:   []string{strings.ReplaceAll(sd, ".", "-"), strings.ReplaceAll(sd, ".", "")},
			flat:    flatten(sd),
			puncts:  punctuation(sd),
		})
	}
	sort.Slice(c.targets, func(i, j int) bool { return c.targets[i].domain < c.targets[j].domain })
	return c
}

// splitRegistrable splits a registrable domain into its first label and its
// public suffix.
func splitRegistrable(reg string) (label, suffix string) {
	label, suffix, _ = strings.Cut(reg, ".")
	return label, suffix
}

// unicodeLabel returns the Unicode form of an A-label (or the input).
func unicodeLabel(l string) string {
	if len(l) < 4 || !strings.EqualFold(l[:4], "xn--") {
		return l
	}
	u, err := idna.Punycode.ToUnicode(strings.ToLower(l))
	if err != nil {
		return l
	}
	return u
}

// Check reports whether domain, as written (any case, Unicode or punycode),
// resembles a protected domain. A protected domain itself, and any domain
// sharing its registrable domain, never does.
func (c *LookalikeChecker) Check(domain string) (Match, bool) {
	nd, err := NormalizeDomain(domain)
	if err != nil || nd == "" || len(nd) > 253 {
		return Match{}, false
	}
	reg := registrable(nd)
	if c.exact[reg] {
		return Match{}, false
	}
	labels := displayLabels(domain, nd)
	nreg := strings.Count(reg, ".") + 1
	if nreg > len(labels) {
		return Match{}, false
	}
	sub := labels[:len(labels)-nreg]
	label, suffix := splitRegistrable(reg)
	raw := labels[len(labels)-nreg]
	skel, notes := skeleton(raw)
	cand := candidate{label: label, raw: raw, suffix: suffix, skel: []rune(skel), skelStr: skel, notes: notes}

	folded := make([]string, len(labels))
	for i, l := range labels {
		folded[i], _ = skeleton(l)
	}
	whole := strings.Join(folded, ".")
	flat, puncts := flatten(whole), punctuation(whole)

	best, bestScore := Match{}, -1
	for i := range c.targets {
		t := &c.targets[i]
		if m, ok := subdomainTrick(t, sub); ok {
			return m, true
		}
		if score, reason, ok := cand.compare(t); ok && (bestScore < 0 || score < bestScore) {
			best, bestScore = Match{Resembles: t.domain, Reason: reason}, score
		}
		// Punctuation edits of the whole domain: example-corp-co.jp,
		// examplecorp.co.jp and example.corp.co.jp for example-corp.co.jp
		// read the same letters in the same order.
		if flat == t.flat && len(flat) >= minPunctFlat && (bestScore < 0 || 7 < bestScore) {
			best, bestScore = Match{Resembles: t.domain, Reason: punctReason(puncts, t.puncts)}, 7
		}
	}
	return best, bestScore >= 0
}

// flatten drops the dots and hyphens of a domain.
func flatten(d string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' {
			return -1
		}
		return r
	}, d)
}

// punctuation keeps only the dots and hyphens of a domain, in order.
func punctuation(d string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' {
			return r
		}
		return -1
	}, d)
}

// punctReason names the punctuation edit between two domains with the
// same letters.
func punctReason(cand, target string) string {
	switch {
	case len(cand) < len(target):
		return "punctuation edit (dot or hyphen dropped)"
	case len(cand) > len(target):
		return "punctuation edit (dot or hyphen added)"
	case strings.Count(cand, ".") < strings.Count(target, "."):
		return "punctuation edit (dot → hyphen)"
	case strings.Count(cand, ".") > strings.Count(target, "."):
		return "punctuation edit (hyphen → dot)"
	}
	return "punctuation edit (dot and hyphen moved)"
}

// displayLabels returns the labels of domain as the reader sees them (case,
// script and width kept), or the Unicode labels of the canonical form when
// the two disagree on the label count.
func displayLabels(raw, canonical string) []string {
	raw = strings.NewReplacer("．", ".", "。", ".", "｡", ".").Replace(strings.TrimSpace(raw))
	labels := strings.Split(strings.TrimSuffix(raw, "."), ".")
	clabels := strings.Split(canonical, ".")
	if len(labels) != len(clabels) {
		labels = clabels
	}
	for i, l := range labels {
		labels[i] = unicodeLabel(l)
	}
	return labels
}

// subdomainTrick finds a protected domain spelled out in the subdomain part:
// example.com.evil.net, example-com.evil.net.
func subdomainTrick(t *target, sub []string) (Match, bool) {
	if len(sub) == 0 || visualLen(t.skel) < minSwapLabel {
		return Match{}, false
	}
	folded := make([]string, len(sub))
	for i, l := range sub {
		folded[i], _ = skeleton(l)
	}
	joined := strings.Join(folded, ".")
	tskel := t.skelDom
	if joined == tskel || strings.HasPrefix(joined, tskel+".") || strings.HasSuffix(joined, "."+tskel) || strings.Contains(joined, "."+tskel+".") {
		return Match{Resembles: t.domain, Reason: "subdomain trick (" + t.domain + " as a subdomain)"}, true
	}
	for _, l := range folded {
		for _, f := range t.forms {
			if l == f {
				return Match{Resembles: t.domain, Reason: "subdomain trick (" + l + ")"}, true
			}
		}
	}
	return Match{}, false
}

// candidate is the registrable part of a checked domain.
type candidate struct {
	label   string // canonical (A-label) first label of the registrable domain
	raw     string // that label as written
	suffix  string
	skel    []rune
	skelStr string
	notes   []string
}

// compare scores a candidate against one target; lower is closer. The kind
// of resemblance dominates (identical label, homoglyph, hyphen, edits); ties
// go to the target with the same suffix, then to a confusable suffix.
func (c *candidate) compare(t *target) (score int, reason string, ok bool) {
	n := visualLen(t.skel)
	sameSuffix := c.suffix == t.suffix
	swapped := !sameSuffix && swapSuffixes[c.suffix] && swapSuffixes[t.suffix]
	penalty := 2
	switch {
	case sameSuffix:
		penalty = 0
	case swapped:
		penalty = 1
	}
	suffixOK := sameSuffix || (swapped && n >= minSwapLabel) || n >= minAnySuffix
	tld := ""
	if !sameSuffix {
		tld = "tld swap (." + t.suffix + " → ." + c.suffix + ")"
	}
	with := func(r string) string {
		if tld == "" {
			return r
		}
		return r + ", " + tld
	}
	switch {
	case c.label == t.label:
		// Same registrable domain was excluded, so the suffix differs.
		if suffixOK {
			return penalty, tld, true
		}
		return 0, "", false
	case c.skelStr == t.skelStr && n >= minSwapLabel && suffixOK:
		notes := c.notes
		if len(notes) == 0 {
			notes = t.notes // "modem" posing as "modern"
		}
		return 3 + penalty, with(homoglyphReason(notes)), true
	case strings.ReplaceAll(c.skelStr, "-", "") == t.dehyph && n >= minAnySuffix && suffixOK:
		return 6 + penalty, with("hyphen added or dropped"), true
	case n >= minSwapLabel && c.skelStr == t.forms[0], n >= minEditLabel && c.skelStr == t.forms[1]:
		// Glued without a hyphen, short names collide with real ones
		// (ntt.com and nttcom.co.jp).
		return 6 + penalty, "whole domain spelled in the label (" + c.raw + ")", true
	}
	if !sameSuffix && !swapped {
		return 0, "", false
	}
	limit := 0
	switch {
	case n >= minTwoEditsLabel:
		limit = 2
	case n >= minEditLabel:
		limit = 1
	default:
		return 0, "", false
	}
	d := editDistance(c.skel, t.skel, limit)
	if d > limit {
		return 0, "", false
	}
	r := "edit distance " + string(rune('0'+d))
	if len(c.notes) > 0 {
		r += " after folding " + strings.Join(c.notes, ", ")
	}
	return 6 + 3*d + penalty, with(r), true
}

func homoglyphReason(notes []string) string {
	if len(notes) == 0 {
		return "homoglyph"
	}
	return "homoglyph (" + strings.Join(notes, ", ") + ")"
}

// visualLen counts a label's length as a reader weighs it: one per Latin
// letter or digit, two per CJK or other wide character, so that a two-kanji
// label is as distinctive as a four-letter one.
func visualLen(rs []rune) int {
	n := 0
	for _, r := range rs {
		if r >= 0x2E80 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
