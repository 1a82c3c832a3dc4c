package detect

import (
	"bytes"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// ext is what a configuration adds to the built-in detectors: the
// dictionaries of the keyword detector, custom patterns and allowed
// values. It is built once with the Engine and never changes, so a new
// configuration means a new Engine, swapped whole with the policy.
type ext struct {
	dicts    []Dictionary     // dicts[0] is the built-in dictionary
	near     [][][]byte       // per dictionary: folded ExcludeNear phrases
	nearKeys []*[1 << 16]bool // per dictionary: hashes of their first three bytes
	patterns []*compiledPattern
	allow    *allowSet
}

// extend builds the configured additions and returns the keyword trie.
// c has been validated by normalise.
func (e *Engine) extend(c Config) *kwTrie {
	e.dicts = c.dictionaries()
	e.near = make([][][]byte, len(e.dicts))
	e.nearKeys = make([]*[1 << 16]bool, len(e.dicts))
	for i, d := range e.dicts {
		for _, p := range d.ExcludeNear {
			f := bytes.ToLower(norm.NFKC.Bytes([]byte(strings.TrimSpace(p))))
			if len(f) < 3 {
				continue // refused by checkDictionaries
			}
			if e.nearKeys[i] == nil {
				e.nearKeys[i] = new([1 << 16]bool)
			}
			e.nearKeys[i][nearKey(f)] = true
			e.near[i] = append(e.near[i], f)
		}
	}
	e.patterns, _ = compilePatterns(c.Patterns)
	e.allow = newAllowSet(c.Allow)
	return buildTrie(e.dicts)
}

// numSets is the number of value sets a Result holds.
func (e *Engine) numSets() int { return numDetectors + len(e.dicts) - 1 + len(e.patterns) }

// setName is the detector name reported for value set d.
func (e *Engine) setName(d int) string {
	switch {
	case d < numDetectors:
		return detectorNames[d]
	case d < numDetectors+len(e.dicts)-1:
		return Keyword
	}
	return PatternPrefix + e.patterns[d-numDetectors-len(e.dicts)+1].Name
}

// whyDetector is the detector whose reasons explain value set d: a company
// dictionary explains like the built-in keyword detector; a custom pattern
// has none of its own (-1: "pattern match").
func (e *Engine) whyDetector(d int) int {
	switch {
	case d < numDetectors:
		return d
	case d < numDetectors+len(e.dicts)-1:
		return detKeyword
	}
	return -1
}

// label names the dictionary of a keyword hit.
func (e *Engine) label(d int, h Hit) Hit {
	k := -1
	switch {
	case d == detKeyword:
		k = 0
	case d >= numDetectors && d < numDetectors+len(e.dicts)-1:
		k = d - numDetectors + 1
	}
	if k >= 0 {
		h.Dictionary, h.Level = e.dicts[k].Name, e.dicts[k].Level
	}
	return h
}

// mask renders a sample of set d: terms as they are (a label is not
// personal data), custom pattern values starred but for their first
// quarter, built-in detectors by their own rules.
func (e *Engine) mask(d int, v []byte) string {
	switch {
	case d < numDetectors:
		return mask(d, v)
	case d < numDetectors+len(e.dicts)-1:
		return string(v)
	}
	rs := []rune(string(v))
	show := len(rs) / 4
	out := []rune(string(rs[:show]))
	for range rs[show:] {
		out = append(out, '*')
	}
	return string(out)
}
