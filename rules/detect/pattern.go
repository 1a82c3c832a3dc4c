package detect

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Pattern is a custom detector: a regular expression (RE2 syntax, so its
// time is linear in the text), an optional check-digit validator and
// optional context words that must appear near a match. Its findings are
// reported as detector "pattern:NAME".
type Pattern struct {
	Name  string
	Regex string
	// Validator checks the digits of a match: "" or "none", "luhn",
	// "mynumber", "corporate_number" or "mod11".
	Validator string
	// Context words (matched after NFKC and case folding); when set, one
	// of them must appear within Window characters before or after a match.
	Context []string
	// Window is the context distance in characters (default 50).
	Window int
}

// PatternPrefix starts the detector name of custom patterns.
const PatternPrefix = "pattern:"

// Validators of custom patterns.
var validators = map[string]func([]byte) bool{
	"":                 nil,
	"none":             nil,
	"luhn":             func(d []byte) bool { return len(d) >= 12 && len(d) <= 19 && luhnValid(d) },
	"mynumber":         myNumberValid,
	"corporate_number": corporateValid,
	"mod11":            mod11Valid,
}

const (
	defaultPatternWindow = 50
	maxPatternWindow     = 1000
	maxRegexLen          = 1000
	// maxRegexInsts bounds the compiled program: Go's RE2 engine is linear
	// in the text but its NFA steps through every instruction per byte.
	maxRegexInsts = 2000
	// patternBudget bounds the time all patterns take over one text; what
	// is left unscanned is reported (Result.Incomplete).
	patternBudget = 2 * time.Second
	// patternChunk is the line-aligned slice of text matched at a time,
	// between checks of the budget.
	patternChunk = 8 << 10
)

// compiledPattern is a Pattern ready to run.
type compiledPattern struct {
	Pattern
	re      *regexp.Regexp
	valid   func([]byte) bool
	context [][]byte // folded
}

// compilePatterns compiles every pattern, reporting every problem at once.
func compilePatterns(ps []Pattern) ([]*compiledPattern, []error) {
	var out []*compiledPattern
	var errs []error
	seen := map[string]bool{}
	for i, p := range ps {
		key := fmt.Sprintf("patterns[%d]", i)
		if p.Name != "" {
			key = fmt.Sprintf("patterns[%s]", p.Name)
		}
		cp, err := compilePattern(p)
		if err == nil && seen[p.Name] {
			err = fmt.Errorf("defined twice")
		}
		seen[p.Name] = true
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		out = append(out, cp)
	}
	return out, errs
}

// CheckPattern reports why a custom pattern cannot be used, or nil.
func CheckPattern(p Pattern) error {
	_, err := compilePattern(p)
	return err
}

func compilePattern(p Pattern) (*compiledPattern, error) {
	if !validName(p.Name) {
		return nil, fmt.Errorf("name %q must be letters, digits, '_' or '-'", p.Name)
	}
	valid, ok := validators[p.Validator]
	if !ok {
		return nil, fmt.Errorf("validator must be none, luhn, mynumber, corporate_number or mod11, not %q", p.Validator)
	}
	if p.Window < 0 || p.Window > maxPatternWindow {
		return nil, fmt.Errorf("window must be 0..%d characters", maxPatternWindow)
	}
	if p.Window == 0 {
		p.Window = defaultPatternWindow
	}
	if p.Regex == "" {
		return nil, fmt.Errorf("regex is empty")
	}
	if len(p.Regex) > maxRegexLen {
		return nil, fmt.Errorf("regex longer than %d bytes", maxRegexLen)
	}
	// Parse first for the syntax error with its position; RE2 syntax has
	// no backreferences or look-around, so no match can backtrack.
	tree, err := syntax.Parse(p.Regex, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("regex: %v", err)
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return nil, fmt.Errorf("regex: %v", err)
	}
	if len(prog.Inst) > maxRegexInsts {
		return nil, fmt.Errorf("regex too complex (%d instructions, at most %d): bound its repetitions", len(prog.Inst), maxRegexInsts)
	}
	re, err := regexp.Compile(p.Regex)
	if err != nil {
		return nil, fmt.Errorf("regex: %v", err)
	}
	if re.MatchString("") {
		return nil, fmt.Errorf("regex matches empty text")
	}
	cp := &compiledPattern{Pattern: p, re: re, valid: valid}
	for j, w := range p.Context {
		f := foldText(w)
		if len(f) == 0 {
			return nil, fmt.Errorf("context %d is empty", j+1)
		}
		cp.context = append(cp.context, f)
	}
	return cp, nil
}

// mod11Valid checks the common weighted modulus-11 check digit (the last
// digit): weights 2, 3, 4, 5, 6, 7 repeating from the digit before it
// leftwards, check = 11 − (Σ mod 11), with 10 and 11 written as 0.
func mod11Valid(d []byte) bool {
	if len(d) < 2 {
		return false
	}
	sum := 0
	for i, w := len(d)-2, 2; i >= 0; i-- {
		sum += int(d[i]-'0') * w
		if w++; w > 7 {
			w = 2
		}
	}
	cd := (11 - sum%11) % 11 % 10
	return int(d[len(d)-1]-'0') == cd
}

// foldText is the matching form of context words and windows: NFKC,
// lower case, spaces collapsed.
func foldText(s string) []byte {
	s = strings.TrimSpace(norm.NFKC.String(s))
	var b []byte
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			if !space {
				b = append(b, ' ')
			}
			space = true
			continue
		}
		space = false
		b = utf8.AppendRune(b, foldCase(r))
	}
	return b
}

// scanPatterns runs the custom patterns over text and records their hits
// in res. Text is NFKC-normalised first (full-width digits and letters,
// half-width katakana), so a regex written with [0-9] finds ０１２. It goes
// chunk by chunk, each with enough text around it for context windows, and
// stops at deadline (the budget from the start of the document, which a
// Document spreads over its chunks), saying where (Result.Incomplete);
// base is the offset of text in the document.
func (e *Engine) scanPatterns(text []byte, res *Result, deadline time.Time, base int) {
	if len(e.patterns) == 0 || len(text) == 0 || res.Incomplete != "" {
		return
	}
	margin := 0 // bytes of context either side: four per character of the widest window
	for _, p := range e.patterns {
		if len(p.context) > 0 {
			margin = max(margin, 4*p.Window)
		}
	}
	var digits, buf []byte
	for start := 0; start < len(text); {
		end := min(len(text), start+patternChunk)
		if end < len(text) {
			if nl := bytes.LastIndexByte(text[start:end], '\n'); nl > 0 {
				end = start + nl + 1
			} else {
				end = runeAt(text, end)
			}
		}
		pre := text[runeAt(text, max(0, start-margin)):start]
		post := text[end:max(end, runeAt(text, min(len(text), end+margin)))]
		buf = norm.NFKC.Append(buf[:0], pre...)
		skip := len(buf)
		buf = norm.NFKC.Append(buf, text[start:end]...)
		stop := len(buf)
		buf = norm.NFKC.Append(buf, post...)
		for i, p := range e.patterns {
			if i > 0 && time.Now().After(deadline) {
				break // reported below
			}
			for _, m := range p.re.FindAllIndex(buf, -1) {
				a, b := m[0], m[1]
				if a < skip || a >= stop {
					continue // another chunk's
				}
				v := buf[a:b]
				if p.valid != nil {
					digits = digits[:0]
					for _, c := range v {
						if isASCIIDigit(rune(c)) {
							digits = append(digits, c)
						}
					}
					if !p.valid(digits) {
						continue
					}
					v = digits
				}
				if len(p.context) > 0 && !hasContext(buf, a, b, p.Window, p.context) {
					continue
				}
				res.add(e.patternSet(i), v, evidence{kind: whyShape, word: -1})
			}
		}
		start = end
		if start < len(text) && time.Now().After(deadline) {
			res.Incomplete = fmt.Sprintf("custom patterns stopped after %s at byte %d of %d", patternBudget, base+start, base+len(text))
			return
		}
	}
}

// runeAt moves i (0 <= i <= len(b)) back to the start of a rune.
func runeAt(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	return runeStart(b, i)
}

// hasContext reports whether a context word appears within window
// characters of text[a:b].
func hasContext(text []byte, a, b, window int, words [][]byte) bool {
	lo, hi := a, b
	for n := 0; n < window && lo > 0; n++ {
		_, sz := utf8.DecodeLastRune(text[:lo])
		lo -= sz
	}
	for n := 0; n < window && hi < len(text); n++ {
		_, sz := utf8.DecodeRune(text[hi:])
		hi += sz
	}
	// the match itself is not its own context
	before, after := foldText(string(text[lo:a])), foldText(string(text[b:hi]))
	for _, w := range words {
		if bytes.Contains(before, w) || bytes.Contains(after, w) {
			return true
		}
	}
	return false
}

// patternSet is the value-set index of custom pattern i.
func (e *Engine) patternSet(i int) int { return numDetectors + len(e.dicts) - 1 + i }
