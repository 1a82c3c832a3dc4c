package detect

import (
	"time"

	"fmt"
	"hash/maphash"
	"unicode/utf8"
)

// Engine runs every enabled detector in one pass. It is immutable after New
// and safe for concurrent use.
type Engine struct {
	cfg     Config
	enabled [numDetectors]bool
	ctx     *ctxIndex
	places  placeIndex
	kw      *kwTrie
	ext                  // dictionaries, custom patterns, allowed values (extend.go)
	seed    maphash.Seed // distinct-value hashing; one per Engine
	// ascii maps an ASCII byte to the action it may start; wide is a bitmap
	// over the BMP of runes that may start a match.
	ascii    [128]uint8
	asciiTab [128]uint8
	wide     [1 << 10]uint64
	// otherLead marks lead bytes of keyword first runes outside the
	// three-byte range (Latin, Cyrillic, emoji), which take a slower path.
	otherLead [256]bool
}

// ASCII trigger actions.
const (
	actNone uint8 = iota
	actDigit
	actAt
	actKeyword
	actDelim // ',' or '\t' in tabular mode
	actQuote
	actNewline
)

// New validates cfg and builds an Engine.
func New(cfg Config) (*Engine, error) {
	c, enabled, err := cfg.normalise()
	if err != nil {
		return nil, fmt.Errorf("detect config: %w", err)
	}
	e := &Engine{cfg: c, enabled: enabled, ctx: newCtxIndex(), places: newPlaceIndex(), seed: maphash.MakeSeed()}
	e.kw = e.extend(c)
	for d := '0'; d <= '9'; d++ {
		e.ascii[d] = actDigit
		e.setWide(0xFF10 + d - '0')
	}
	if enabled[detEmail] {
		e.ascii['@'] = actAt
		e.setWide(0xFF20)
	}
	if enabled[detKeyword] {
		for _, r := range e.kw.firstRunes() {
			if r < utf8.RuneSelf {
				e.ascii[r] = actKeyword
			} else {
				e.setWide(r)
			}
		}
	}
	if enabled[detAddress] || enabled[detPostal] {
		e.places.m.each(e.setWide)
	}
	e.asciiTab = e.ascii
	e.asciiTab[','] = actDelim
	e.asciiTab['\t'] = actDelim
	e.asciiTab['"'] = actQuote
	e.asciiTab['\n'] = actNewline
	return e, nil
}

func (e *Engine) setWide(r rune) {
	if r < 0x800 || r > 0xFFFF {
		var buf [utf8.UTFMax]byte
		utf8.EncodeRune(buf[:], r)
		e.otherLead[buf[0]] = true
		return
	}
	e.wide[r>>6] |= 1 << (r & 63)
}

// Scan runs every enabled detector over text. With tabular set, text is read
// as CSV/TSV: the header (if any) gives columns their meaning and the result
// counts rows and records.
func (e *Engine) Scan(text []byte, tabular bool) *Result {
	s := e.newScanner(tabular)
	s.b = text
	s.run(0, len(text))
	s.finish(len(text))
	e.scanPatterns(text, s.res, time.Now().Add(patternBudget), 0)
	res := s.res
	s.release()
	return res
}
