package detect

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Dictionary is a named list of terms the keyword detector finds. Its
// findings carry the dictionary's name and level, so a policy can ask
// finding("keyword:confidential") or finding("keyword:project_codes").
type Dictionary struct {
	// Name identifies the dictionary (letters, digits, '_' and '-').
	Name string
	// Level is the classification its terms mark ("confidential",
	// "internal", ...); empty means the name.
	Level string
	// Mode is "substring" (default: a term is found inside longer text,
	// except that a term starting or ending with an ASCII letter or digit
	// needs a boundary there, so "Confidential" is not found in
	// "confidentiality") or "word" (no letter or digit of any script may
	// touch the term: 「機密」 but not 機密情報).
	Mode string
	// Terms are matched after NFKC and case folding, with runs of spaces
	// matching one space.
	Terms []string
	// Exclude lists phrases in which a term of this dictionary does not
	// count ("機密保持契約" for 機密); a phrase equal to a term removes it.
	Exclude []string
	// ExcludeNear lists phrases that, within NearWindow characters of a
	// term, make it part of a disclaimer rather than a label: the footer
	// 「本メールには機密情報が含まれている場合があります。誤って受信された
	// 場合は…」 marks no content as confidential.
	ExcludeNear []string
}

// NearWindow is how far (in Japanese characters, either side; three times
// as many ASCII ones) ExcludeNear phrases are looked for: the mark of a
// disclaimer follows its 機密/confidential within a sentence or two. The window
// also ends at a blank line or a separator line (----, ====, ───), so a
// label in the body is not taken for the signature's disclaimer below it.
const NearWindow = 60

// DefaultExclude are phrases of the built-in dictionary's terms that are
// not labels: a non-disclosure agreement is discussed in ordinary mail, and
// 取扱注意事項 are a product's handling notes.
func DefaultExclude() []string {
	return []string{"機密保持契約", "機密保持誓約", "機密保持に関する", "秘密保持契約",
		// product handling notes, not a classification
		"取扱注意事項", "取り扱い注意事項", "取扱い注意事項"}
}

// DefaultExcludeNear are the marks of the confidentiality disclaimers that
// Japanese and English business mail carry in every signature.
func DefaultExcludeNear() []string {
	return []string{
		"誤って受信", "誤ってお受け取り", "誤送信により", "お心当たりのない", "心当たりのない方",
		"受信された場合", "受け取られた場合", "送信者にご連絡", "送信者までご連絡", "破棄してください",
		"削除してください", "削除していただ", "破棄していただ", "無断での転載",
		"intended recipient", "in error", "intended only for", "intended solely for",
		"notify the sender", "delete this",
	}
}

// Dictionary modes.
const (
	ModeSubstring = "substring"
	ModeWord      = "word"
)

// BuiltinDictionary is the name of the built-in Japanese and English
// confidentiality dictionary (DefaultKeywords); a configured dictionary of
// this name extends it.
const BuiltinDictionary = "confidential"

// maxTerms bounds one engine's terms: the trie lives in memory and every
// term costs a few nodes per character.
const maxTerms = 100_000

// DefaultKeywords is the built-in confidentiality dictionary. Matching
// ignores case, full-width forms and runs of spaces.
func DefaultKeywords() []string {
	return []string{
		"社外秘", "部外秘", "関係者外秘", "社内限り", "社内限定", "部内限り",
		"機密", "極秘", "㊙", "マル秘", "取扱注意", "取り扱い注意", "取扱い注意",
		"持出禁止", "持ち出し禁止", "複製禁止", "転送禁止", "開示禁止",
		"Confidential", "Strictly Confidential", "Highly Confidential",
		"Internal Use Only", "Internal Only", "Do Not Distribute",
		"Do Not Forward", "Proprietary", "Top Secret",
	}
}

// dictionaries returns the dictionaries an engine uses: the built-in one
// first (its terms from Keywords, or the default list, extended by a
// configured dictionary of the same name), then the others in order.
func (c Config) dictionaries() []Dictionary {
	builtin := Dictionary{Name: BuiltinDictionary, Level: BuiltinDictionary, Terms: c.Keywords,
		Exclude: DefaultExclude(), ExcludeNear: DefaultExcludeNear()}
	if builtin.Terms == nil {
		builtin.Terms = DefaultKeywords()
	}
	if c.NoBuiltinDictionary {
		builtin.Terms, builtin.Exclude, builtin.ExcludeNear = nil, nil, nil
	}
	out := []Dictionary{builtin}
	for _, d := range c.Dictionaries {
		if d.Name == BuiltinDictionary {
			b := &out[0]
			b.Terms = append(append([]string(nil), b.Terms...), d.Terms...)
			b.Exclude = append(append([]string(nil), b.Exclude...), d.Exclude...)
			b.ExcludeNear = append(append([]string(nil), b.ExcludeNear...), d.ExcludeNear...)
			if d.Level != "" {
				b.Level = d.Level
			}
			if d.Mode != "" {
				b.Mode = d.Mode
			}
			continue
		}
		out = append(out, d)
	}
	for i := range out {
		if out[i].Level == "" {
			out[i].Level = out[i].Name
		}
		if out[i].Mode == "" {
			out[i].Mode = ModeSubstring
		}
	}
	return out
}

// checkDictionaries reports every invalid dictionary and term at once,
// naming the dictionary and the term's position.
func checkDictionaries(ds []Dictionary) []error {
	var errs []error
	seen := map[string]bool{}
	total := 0
	for i, d := range ds {
		key := fmt.Sprintf("dictionaries[%s]", d.Name)
		if i > 0 && !validName(d.Name) {
			errs = append(errs, fmt.Errorf("dictionaries[%d]: name %q must be letters, digits, '_' or '-'", i-1, d.Name))
		}
		if seen[d.Name] {
			errs = append(errs, fmt.Errorf("%s: defined twice", key))
		}
		seen[d.Name] = true
		if d.Level != "" && !validName(d.Level) {
			errs = append(errs, fmt.Errorf("%s: level %q must be letters, digits, '_' or '-'", key, d.Level))
		}
		if d.Mode != ModeSubstring && d.Mode != ModeWord {
			errs = append(errs, fmt.Errorf("%s: mode must be %s or %s, not %q", key, ModeSubstring, ModeWord, d.Mode))
		}
		for j, term := range d.Terms {
			if err := checkTerm(term); err != nil {
				errs = append(errs, fmt.Errorf("%s: term %d %q: %v", key, j+1, clip(term), err))
			}
		}
		for j, term := range d.Exclude {
			if err := checkTerm(term); err != nil {
				errs = append(errs, fmt.Errorf("%s: exclude %d %q: %v", key, j+1, clip(term), err))
			}
		}
		for j, p := range d.ExcludeNear {
			if t := strings.TrimSpace(p); len(t) < 3 || utf8.RuneCountInString(t) > maxKeywordRunes {
				errs = append(errs, fmt.Errorf("%s: exclude_near %d: must be one Japanese or three ASCII characters at least, %d at most", key, j+1, maxKeywordRunes))
			}
		}
		total += len(d.Terms) + len(d.Exclude)
	}
	if total > maxTerms {
		errs = append(errs, fmt.Errorf("dictionaries: %d terms, more than %d", total, maxTerms))
	}
	return errs
}

// CheckDictionary reports a dictionary's invalid name, level or mode (its
// terms are checked by CheckTerm).
func CheckDictionary(d Dictionary) error {
	var errs []error
	if !validName(d.Name) {
		errs = append(errs, fmt.Errorf("name %q must be letters, digits, '_' or '-'", d.Name))
	}
	if d.Level != "" && !validName(d.Level) {
		errs = append(errs, fmt.Errorf("level %q must be letters, digits, '_' or '-'", d.Level))
	}
	if d.Mode != "" && d.Mode != ModeSubstring && d.Mode != ModeWord {
		errs = append(errs, fmt.Errorf("match must be %s or %s, not %q", ModeSubstring, ModeWord, d.Mode))
	}
	return errors.Join(errs...)
}

// CheckTerm reports why a dictionary term cannot be used, or nil; the
// configuration checks file lines with it to name the line.
func CheckTerm(term string) error { return checkTerm(term) }

// checkTerm refuses terms the scanner could never find or that would find
// everything.
func checkTerm(term string) error {
	t := strings.TrimSpace(term)
	n := utf8.RuneCountInString(t)
	switch {
	case !utf8.ValidString(term):
		return fmt.Errorf("not UTF-8")
	case n == 0:
		return fmt.Errorf("empty")
	case n > maxKeywordRunes:
		return fmt.Errorf("longer than %d characters", maxKeywordRunes)
	case strings.ContainsAny(t, "\n\r\x00"):
		return fmt.Errorf("contains a line break")
	}
	first, _ := utf8.DecodeRuneInString(norm.NFKC.String(t))
	switch {
	case isASCIIDigit(first):
		return fmt.Errorf("starts with a digit: numbers are found by detect.patterns")
	case first == '@' || first == ',' || first == '"':
		return fmt.Errorf("starts with %q, which the scanner reads as structure", first)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(isASCIIAlnum(r) || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}

// buildTrie inserts every dictionary's terms and exclusions.
func buildTrie(ds []Dictionary) *kwTrie {
	t := newKwTrie()
	for di, d := range ds {
		for _, term := range d.Terms {
			addTerm(t, int32(di), d.Mode, term, false)
		}
		for _, term := range d.Exclude {
			addTerm(t, int32(di), d.Mode, term, true)
		}
	}
	t.finish()
	return t
}

// addTerm inserts a term under the forms text may take: as written, its
// NFKC form (ﾏﾙﾋ → マルヒ, ＣＯＮＦＩＤＥＮＴＩＡＬ → CONFIDENTIAL) and the
// half-width form of that, since the scanner folds only full-width ASCII
// and spaces. A variant shorter than two characters that differs from the
// written term is skipped: ㊙ must not become every 秘.
func addTerm(t *kwTrie, dict int32, mode, term string, neg bool) {
	term = strings.TrimSpace(term)
	nfkc := norm.NFKC.String(term)
	first, _ := utf8.DecodeRuneInString(nfkc)
	last, _ := utf8.DecodeLastRuneInString(nfkc)
	kt := kwTerm{dict: dict, value: term, neg: neg,
		asciiStart: isASCIIAlnum(foldRune(first)), asciiEnd: isASCIIAlnum(foldRune(last)),
		wordStart: mode == ModeWord, wordEnd: mode == ModeWord}
	seen := map[string]bool{}
	for _, v := range []string{term, nfkc, width.Narrow.String(nfkc)} {
		if seen[v] || v != term && utf8.RuneCountInString(v) < 2 {
			continue
		}
		seen[v] = true
		t.add(v, kt)
	}
}

// dictSet is the value-set index of dictionary k: the built-in keyword
// detector's for the first, extra sets after the detectors for the others.
func (e *Engine) dictSet(k int) int {
	if k == 0 {
		return detKeyword
	}
	return numDetectors + k - 1
}
