package detect

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// hitsOf returns "detector[dictionary]=count" for every hit, in order.
func hitsOf(r *Result) []string {
	var out []string
	for _, h := range r.Hits() {
		s := h.Detector
		if h.Dictionary != "" {
			s += "[" + h.Dictionary + "/" + h.Level + "]"
		}
		out = append(out, fmt.Sprintf("%s=%d", s, h.Count))
	}
	return out
}

func mustEngine(t testing.TB, c Config) *Engine {
	t.Helper()
	e, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDictionaries(t *testing.T) {
	company := Config{Dictionaries: []Dictionary{
		{Name: "projects", Level: "confidential", Terms: []string{"Project Aurora", "極光計画", "ｵｰﾛﾗ"}},
		{Name: "internal", Level: "internal", Mode: ModeWord, Terms: []string{"秘扱い", "CONFIDENTIAL – Internal Use"}},
		{Name: BuiltinDictionary, Terms: []string{"秘密情報"}, Exclude: []string{"機密保持契約", "Proprietary"}},
	}}
	tests := []struct {
		name string
		cfg  Config
		text string
		want []string
	}{
		{"builtin", Config{}, "本資料は社外秘です。", []string{"keyword[confidential/confidential]=1"}},
		{"builtin full-width and case", Config{}, "ＣＯＮＦＩＤＥＮＴＩＡＬ / strictly   confidential", []string{"keyword[confidential/confidential]=2"}},
		{"builtin not inside an English word", Config{}, "confidentiality agreement", nil},
		{"company term", company, "project aurora の進捗", []string{"keyword[projects/confidential]=1"}},
		{"NFKC: half-width term finds full-width text", company, "オーロラの件", []string{"keyword[projects/confidential]=1"}},
		{"NFKC: and half-width text", company, "ｵｰﾛﾗの件", []string{"keyword[projects/confidential]=1"}},
		{"word mode needs boundaries", company, "秘扱いの資料", nil},
		{"word mode with brackets", company, "【秘扱い】資料", []string{"keyword[internal/internal]=1"}},
		{"word mode punctuation term", company, "confidential – internal use", []string{"keyword[confidential/confidential]=1", "keyword[internal/internal]=1"}},
		{"builtin extended", company, "秘密情報を含みます", []string{"keyword[confidential/confidential]=1"}},
		{"exclusion phrase hides the term", company, "機密保持契約を締結します", nil},
		{"exclusion only there", company, "機密保持契約と機密資料", []string{"keyword[confidential/confidential]=1"}},
		{"exclusion equal to a term removes it", company, "Proprietary software", nil},
		{"builtin replaced", Config{NoBuiltinDictionary: true, Dictionaries: []Dictionary{{Name: BuiltinDictionary, Terms: []string{"部外秘"}}}},
			"社外秘 部外秘", []string{"keyword[confidential/confidential]=1"}},
		{"builtin dropped", Config{NoBuiltinDictionary: true}, "社外秘", nil},
		{"same term in two dictionaries", Config{Dictionaries: []Dictionary{{Name: "a", Terms: []string{"社外秘"}}}},
			"社外秘", []string{"keyword[confidential/confidential]=1", "keyword[a/a]=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := hitsOf(mustEngine(t, tc.cfg).Scan([]byte(tc.text), false))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%q: hits %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestDictionaryErrorsNameTheTerm(t *testing.T) {
	_, err := New(Config{Dictionaries: []Dictionary{
		{Name: "ok", Terms: []string{"a", "", "2025計画", strings.Repeat("長", 65)}},
		{Name: "bad name!", Terms: []string{"x"}},
		{Name: "modes", Mode: "regex", Terms: []string{"x"}},
		{Name: "ok", Terms: []string{"y"}},
	}})
	if err == nil {
		t.Fatal("invalid dictionaries accepted")
	}
	for _, want := range []string{"dictionaries[ok]: term 2", "empty", "term 3", "starts with a digit", "term 4",
		`name "bad name!"`, "dictionaries[modes]: mode", "dictionaries[ok]: defined twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestPatterns(t *testing.T) {
	cfg := Config{Patterns: []Pattern{
		{Name: "project_code", Regex: `PRJ-[0-9]{4}`},
		{Name: "employee_id", Regex: `\b[0-9]{7}\b`, Context: []string{"社員番号", "Employee ID"}, Window: 20},
		{Name: "member_card", Regex: `\b[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}\b`, Validator: "luhn"},
		{Name: "ref", Regex: `R[0-9]{6}`, Validator: "mod11"},
	}}
	e := mustEngine(t, cfg)
	tests := []struct {
		text string
		want string // "" = no pattern hit
	}{
		{"案件 PRJ-0042 と PRJ-0042", "pattern:project_code=1"},
		{"全角 ＰＲＪ－００４２", "pattern:project_code=1"},
		{"社員番号: 1234567", "pattern:employee_id=1"},
		{"employee id 1234567", "pattern:employee_id=1"},
		{"注文 1234567 を発送", ""},
		{"社員番号は以下の通りです。長い説明がここに入ってとても離れている 1234567", ""},
		{"会員カード " + luhnCard("498000000000000"), "pattern:member_card=1"},
		{"会員カード " + wrongLast(luhnCard("498000000000000")), ""},
		{"参照 R" + mod11Complete("12345"), "pattern:ref=1"},
		{"参照 R" + wrongLast(mod11Complete("12345")), ""},
	}
	for _, tc := range tests {
		var got []string
		for _, h := range e.Scan([]byte(tc.text), false).Hits() {
			if strings.HasPrefix(h.Detector, PatternPrefix) {
				got = append(got, fmt.Sprintf("%s=%d", h.Detector, h.Count))
				if tc.want != "" && strings.Contains(h.Samples[0], "0042") {
					t.Errorf("sample %q not masked", h.Samples[0])
				}
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q: %v, want %q", tc.text, got, tc.want)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	tests := []struct {
		p    Pattern
		want string
	}{
		{Pattern{Name: "x", Regex: `(a`}, "missing closing )"},
		{Pattern{Name: "x", Regex: `(\w+)\1`}, "invalid escape"}, // backreferences are not RE2
		{Pattern{Name: "x", Regex: `(?=a)b`}, "invalid or unsupported Perl syntax"},
		{Pattern{Name: "x", Regex: `a*`}, "matches empty text"},
		{Pattern{Name: "x", Regex: `((a{100}){100}){100}`}, "regex"},
		{Pattern{Name: "x", Regex: `[a-z]{1000}[0-9]{1000}`}, "too complex"},
		{Pattern{Name: "x", Regex: `a`, Validator: "crc"}, "validator"},
		{Pattern{Name: "", Regex: `a`}, "name"},
		{Pattern{Name: "x", Regex: `a`, Window: -1}, "window"},
	}
	for _, tc := range tests {
		_, err := New(Config{Patterns: []Pattern{tc.p}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.p, err, tc.want)
		}
	}
}

// A pattern that is slow on purpose cannot hold a scan beyond its budget:
// the result says what was left.
func TestPatternBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("times a large scan")
	}
	e := mustEngine(t, Config{Patterns: []Pattern{{Name: "slow", Regex: `(?:[a-z]{1,10}[0-9]{0,10}){1,30}Z`}}})
	text := []byte(strings.Repeat(strings.Repeat("abcdefghij0123456789", 50)+"\n", 8000)) // 8 MB
	// The built-in detectors' pass over the same text, timed in the same
	// run, is the baseline: a loaded machine or the race detector slows
	// both alike, while an unbounded pattern would take minutes.
	start := time.Now()
	mustEngine(t, Config{}).Scan(text, false)
	base := time.Since(start)
	start = time.Now()
	res := e.Scan(text, false)
	d := time.Since(start)
	if limit := 2*base + patternBudget + 2*time.Second; d > limit {
		t.Fatalf("scan took %s, over %s (built-in detectors alone: %s)", d, limit, base)
	}
	if d > base+patternBudget+time.Second && res.Incomplete == "" {
		t.Fatalf("scan took %s and does not say it stopped", d)
	}
	t.Logf("incomplete: %q", res.Incomplete)
}

func TestAllowedValues(t *testing.T) {
	text := "カード 4111 1111 1111 1111、マイナンバー 1234-5678-9018、弊社代表 TEL 03-1234-5678、法人番号 7000012050002。" +
		"お客様のマイナンバー 847080269628"
	all := func(c Config) map[string]int {
		m := map[string]int{}
		for _, h := range mustEngine(t, c).Scan([]byte(text), false).Hits() {
			m[h.Detector] = h.Count
		}
		return m
	}
	plain := all(Config{})
	if plain[CreditCard] == 0 || plain[MyNumber] < 2 || plain[JPPhone] == 0 || plain[CorporateNumber] == 0 {
		t.Fatalf("without an allowlist: %v", plain)
	}
	allowed := all(Config{Allow: append(TestValues(), "03(1234)5678", "７０００－０１２０５－０００２")})
	if allowed[CreditCard] != 0 || allowed[JPPhone] != 0 || allowed[CorporateNumber] != 0 {
		t.Errorf("allowed values still found: %v", allowed)
	}
	if allowed[MyNumber] != 1 {
		t.Errorf("mynumber = %d, want 1 (the customer's, not the sample)", allowed[MyNumber])
	}
}

// BenchmarkDictionaries: the keyword pass with the built-in dictionary and
// with 2,000 company terms in three dictionaries, over the same prose.
func BenchmarkDictionaries(b *testing.B) {
	data := genProse(8<<20, 1)
	var terms []string
	for i := range 2000 {
		// company names share their first characters: one trie node with
		// thousands of edges
		terms = append(terms, fmt.Sprintf("株式会社顧客%04d", i), fmt.Sprintf("Codename %d", i))
	}
	data = append(data, bytes.Repeat([]byte("株式会社顧客1234 様、株式会社サンプル 御中\n"), 20000)...)
	big := Config{Dictionaries: []Dictionary{
		{Name: "projects", Terms: terms[:2000]},
		{Name: "codes", Mode: ModeWord, Terms: terms[2000:]},
		{Name: BuiltinDictionary, Exclude: []string{"機密保持契約"}},
	}}
	for _, c := range []struct {
		name string
		cfg  Config
	}{{"builtin", Config{}}, {"company-2000-terms", big}} {
		e, err := New(c.cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			benchRatio(b, data, func(d []byte) int { return len(e.Scan(d, false).Hits()) })
		})
	}
}

func luhnCard(d15 string) string {
	for c := '0'; c <= '9'; c++ {
		if v := d15 + string(c); luhnValid([]byte(v)) {
			return v
		}
	}
	panic("no check digit")
}

func mod11Complete(d string) string {
	for c := '0'; c <= '9'; c++ {
		if v := d + string(c); mod11Valid([]byte(v)) {
			return v
		}
	}
	panic("no check digit")
}

func wrongLast(v string) string {
	return v[:len(v)-1] + string('0'+(v[len(v)-1]-'0'+1)%10)
}

// Confidentiality disclaimers in signatures are not labels; a label in
// the body above one still is.
func TestDisclaimersAreNotLabels(t *testing.T) {
	e := mustEngine(t, Config{})
	sig := "\n\n--------------------------------\n株式会社サンプル 営業部 山田太郎\n" +
		"本メールには機密情報が含まれている場合があります。誤って受信された場合は、送信者にご連絡のうえ破棄してください。\n" +
		"This e-mail is CONFIDENTIAL and intended solely for the addressee. If you received it in error, please delete it.\n"
	tests := []struct {
		text string
		want int
	}{
		{"お世話になっております。資料をお送りします。" + sig, 0},
		{"お世話になっております。機密保持契約書のドラフトをお送りします。" + sig, 0},
		{"【社外秘】来期の価格表をお送りします。" + sig, 1},
		{"社外秘の資料です。\n----\n本メールは機密情報を含みます。誤って受信された場合は削除してください。", 1},
		{"本資料は極秘です。取扱いにご注意ください。", 1},
		{"製品の取扱注意事項をご確認ください。", 0},
		{"【取扱注意】人事評価一覧", 1},
	}
	for _, tc := range tests {
		n := 0
		if h, ok := e.Scan([]byte(tc.text), false).Hit(Keyword); ok {
			n = h.Count
		}
		if n != tc.want {
			t.Errorf("%q: %d keywords, want %d", tc.text, n, tc.want)
		}
	}
}

// Context is found across the chunks patterns are matched in.
func TestPatternContextAcrossChunks(t *testing.T) {
	e := mustEngine(t, Config{Patterns: []Pattern{{Name: "employee_id", Regex: `\b[0-9]{7}\b`, Context: []string{"社員番号"}, Window: 20}}})
	for _, text := range []string{
		strings.Repeat("あ", patternChunk/3-10) + "社員番号\n1234567 です\n",
		strings.Repeat("い", patternChunk/3-4) + "\n1234567\n社員番号です\n",
	} {
		if h, ok := e.Scan([]byte(text), false).Hit("employee_id"); ok || h.Count > 0 {
			t.Fatalf("Hit by pattern name: %+v", h)
		}
		found := false
		for _, h := range e.Scan([]byte(text), false).Hits() {
			found = found || h.Detector == "pattern:employee_id"
		}
		if !found {
			t.Errorf("context lost at a chunk boundary (text of %d bytes)", len(text))
		}
	}
}

func BenchmarkAllowedCheck(b *testing.B) {
	a := newAllowSet(append(TestValues(), "03-1234-5678"))
	vals := [][]byte{[]byte("09012345678"), []byte("4539148803436467"), []byte("taro@example.co.jp"), []byte("0312345678")}
	b.ReportAllocs()
	for i := range b.N {
		if a.has(vals[i%len(vals)]) {
			benchSink++
		}
	}
}
