package edm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// person is one generated customer record.
type person struct{ name, kana, phone, email, id string }

var (
	sei  = []string{"山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"}
	seiK = []string{"ヤマダ", "サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ナカムラ", "コバヤシ", "カトウ"}
	// given names are made of two parts: 健太, 大輔, 美香, ...
	mei1  = []string{"健", "大", "翔", "美", "真", "一", "陽", "結", "和", "花"}
	mei1K = []string{"ケン", "ダイ", "ショウ", "ミ", "マ", "イチ", "ヨウ", "ユ", "カズ", "ハナ"}
	mei2  = []string{"太", "輔", "子", "郎", "介", "也", "樹", "香", "人", "奈"}
	mei2K = []string{"タ", "スケ", "コ", "ロウ", "スケ", "ヤ", "キ", "カ", "ト", "ナ"}
)

// people generates n records; names repeat every 1000 records (同姓同名
// with different phones and e-mails), readings more often (介 and 輔 are
// both スケ), and records with i%7 == 0 share the company switchboard
// 03-5555-0000.
func people(n int) []person {
	out := make([]person, n)
	for i := range out {
		s, m1, m2 := i%10, (i/10)%10, (i/100)%10
		out[i] = person{
			name:  sei[s] + " " + mei1[m1] + mei2[m2],
			kana:  seiK[s] + " " + mei1K[m1] + mei2K[m2],
			phone: fmt.Sprintf("090-%04d-%04d", i/10000, i%10000),
			email: fmt.Sprintf("user%d@example.net", i),
			id:    fmt.Sprintf("C%07d", i),
		}
		if i%7 == 0 {
			out[i].phone = "03-5555-0000"
		}
	}
	return out
}

func csvOf(ps []person, header bool) string {
	var b strings.Builder
	if header {
		b.WriteString("氏名,フリガナ,電話番号,メール,顧客番号\n")
	}
	for _, p := range ps {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s\r\n", p.name, p.kana, p.phone, p.email, p.id)
	}
	return b.String()
}

var testKey = bytes.Repeat([]byte{7}, 32)

func build(t testing.TB, data []byte) (*Index, ImportStats, string) {
	t.Helper()
	cols, err := ParseColumns("name,kana,phone,email,customer_id")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(testKey, cols.Fields())
	if err != nil {
		t.Fatal(err)
	}
	st, err := ImportCSV(bytes.NewReader(data), cols, HeaderAuto, b)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "edm.idx")
	if _, err := b.WriteFile(path, time.Now()); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return ix, st, path
}

func TestImportEncodingsAndHeader(t *testing.T) {
	t.Parallel()
	ps := people(300)
	utf := csvOf(ps, true)
	sjis, err := japanese.ShiftJIS.NewEncoder().String(csvOf(ps, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data, enc string
		header          bool
	}{
		{"utf8-header", utf, "utf-8", true},
		{"utf8-bom", "\ufeff" + utf, "utf-8", true},
		{"sjis-noheader", sjis, "shift_jis", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, st, _ := build(t, []byte(tc.data))
			if st.Encoding != tc.enc || st.Header != tc.header || st.Rows != 300 || ix.Info().Records != 300 {
				t.Fatalf("stats %+v, records %d", st, ix.Info().Records)
			}
			// the same record is found whatever the source encoding
			p := ps[123]
			if n := ix.Match([]byte(p.name+"\t"+p.phone+"\n"), true).Records(); n != 1 {
				t.Fatalf("name+phone row: %d records", n)
			}
		})
	}
}

func TestIndexHoldsNoPlaintext(t *testing.T) {
	t.Parallel()
	ps := people(50)
	_, _, path := build(t, []byte(csvOf(ps, false)))
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{ps[7].email, "user7", "C0000007", "5555", "山田", "ヤマダ", "やまだ", string(testKey)} {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("index contains %q", v)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("index mode %v", fi.Mode().Perm())
	}
}

func TestMatchRules(t *testing.T) {
	t.Parallel()
	ps := people(1000)
	ix, _, _ := build(t, []byte(csvOf(ps, false)))
	p, q := ps[123], ps[456]
	sw := ps[126] // shares the switchboard with 142 others
	for _, tc := range []struct {
		name    string
		text    string
		tabular bool
		want    int
	}{
		{"csv row name+phone", "1," + p.name + "," + p.phone + "\n", true, 1},
		{"csv row two records", p.email + "," + p.id + "\n" + q.kana + "\t" + q.email + "\n", true, 2},
		{"csv fields of one record on two rows", p.name + "\n" + p.phone + "\n", true, 0},
		{"one field alone", p.email + "\n" + q.phone + "\n" + p.id + "\n", true, 0},
		{"similar name with the real phone", p.name[:len(p.name)-len("太")] + "朗" + "," + p.phone + "\n", true, 0},
		{"switchboard alone", sw.phone + "\n", true, 0},
		{"switchboard with an unrelated name", sw.phone + "," + ps[1].name + "\n", true, 0},
		{"switchboard with its record's name", sw.phone + "," + sw.name + "\n", true, 1},
		{"switchboard with a shared surname", sw.phone + ",山田\n", true, 0},
		{"prose paragraph", "いつもお世話になっております。\n" + p.name + "様の件です。\n連絡先: " + p.phone + "\n", false, 1},
		{"prose fields in two paragraphs", p.name + "様の件です。\n\n連絡先: " + p.phone + "\n", false, 0},
		{"prose kana and email, folded", "ﾌﾘｶﾞﾅ: " + halfKana(p.kana) + "\nＭａｉｌ： " + strings.ToUpper(p.email) + "\n", false, 1},
		{"prose international phone form", "Mail " + p.email + " / Tel +81 " + p.phone[1:] + "\n", false, 1},
		{"prose id and phone without hyphens", "顧客番号 " + p.id + " TEL " + strings.ReplaceAll(p.phone, "-", "") + "\n", false, 1},
		{"prose name without space, email", strings.ReplaceAll(p.name, " ", "") + "様 " + p.email, false, 1},
		{"nothing", "本日の会議は 15 時からです。03-1234-5678 まで。\n", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ix.Match([]byte(tc.text), tc.tabular)
			if got := m.Records(); got != tc.want {
				t.Fatalf("records %d, want %d (samples %v)", got, tc.want, m.Samples(3))
			}
			for _, s := range m.Samples(3) {
				for _, v := range []string{p.name, p.email, p.phone, p.id, sw.name} {
					if strings.Contains(s, v) {
						t.Fatalf("sample %q carries a value", s)
					}
				}
			}
		})
	}
}

// halfKana writes a katakana string with half-width kana.
func halfKana(s string) string {
	r := strings.NewReplacer("ヤ", "ﾔ", "マ", "ﾏ", "ダ", "ﾀﾞ", "タ", "ﾀ", "ロ", "ﾛ", "ウ", "ｳ", "サ", "ｻ", "ト", "ﾄ",
		"ス", "ｽ", "ズ", "ｽﾞ", "キ", "ｷ", "カ", "ｶ", "ハ", "ﾊ", "シ", "ｼ", "ナ", "ﾅ", "イ", "ｲ", "ワ", "ﾜ", "ベ", "ﾍﾞ",
		"ム", "ﾑ", "ラ", "ﾗ", "コ", "ｺ", "バ", "ﾊﾞ", "チ", "ﾁ", "ミ", "ﾐ", "ケ", "ｹ", "ン", "ﾝ", "ヨ", "ﾖ", "ョ", "ｮ",
		"ユ", "ﾕ", "ス", "ｽ", "ケ", "ｹ", "マ", "ﾏ", "ユ", "ﾕ", "ミ", "ﾐ", "ダ", "ﾀﾞ", "イ", "ｲ", "ス", "ｽ")
	return r.Replace(s)
}

func TestSamplesNameFields(t *testing.T) {
	t.Parallel()
	ps := people(200)
	ix, _, _ := build(t, []byte(csvOf(ps, false)))
	var b strings.Builder
	for _, p := range ps[:5] {
		b.WriteString(p.name + "," + p.email + "\n")
	}
	b.WriteString(ps[9].id + "," + ps[9].phone + "\n")
	got := ix.Match([]byte(b.String()), true).Samples(3)
	want := []string{"name+email (5)", "phone+customer_id (1)"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("samples %v, want %v", got, want)
	}
}

func TestOpenRefusesCorruptOrForeignIndex(t *testing.T) {
	t.Parallel()
	_, _, path := build(t, []byte(csvOf(people(100), false)))
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, bytes.Repeat([]byte{8}, 32)); err == nil || !strings.Contains(err.Error(), "different key") {
		t.Fatalf("foreign key: %v", err)
	}
	for name, mut := range map[string]func([]byte) []byte{
		"flipped entry": func(b []byte) []byte { b[len(b)-20] ^= 1; return b },
		"truncated":     func(b []byte) []byte { return b[:len(b)-13] },
		"not an index":  func(b []byte) []byte { return []byte("name,phone\n") },
	} {
		bad := filepath.Join(t.TempDir(), "bad.idx")
		if err := os.WriteFile(bad, mut(bytes.Clone(raw)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(bad, testKey); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.idx"), testKey); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kp := filepath.Join(dir, "keys", "edm.key")
	if err := os.Mkdir(filepath.Dir(kp), 0o700); err != nil {
		t.Fatal(err)
	}
	k1, created, err := LoadOrCreateKey(kp)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("create: %v %v %d", err, created, len(k1))
	}
	if fi, _ := os.Stat(kp); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKey(kp)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", err, created)
	}
	if err := os.Chmod(kp, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(kp); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key accepted: %v", err)
	}
	if err := CheckKeyPlacement(kp, filepath.Join(dir, "keys", "edm.idx")); !errors.Is(err, ErrSameDir) {
		t.Fatalf("same dir accepted: %v", err)
	}
	if err := CheckKeyPlacement(kp, filepath.Join(dir, "edm.idx")); err != nil {
		t.Fatal(err)
	}
}

func TestReimportReplaces(t *testing.T) {
	t.Parallel()
	ps := people(100)
	_, _, path := build(t, []byte(csvOf(ps[:50], false)))
	cols, _ := ParseColumns("name,kana,phone,email,customer_id")
	b, _ := NewBuilder(testKey, cols.Fields())
	if _, err := ImportCSV(strings.NewReader(csvOf(ps[50:], false)), cols, HeaderNo, b); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteFile(path, time.Now()); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if n := ix.Match([]byte(ps[10].name+","+ps[10].email), true).Records(); n != 0 {
		t.Fatal("old record still found")
	}
	if n := ix.Match([]byte(ps[60].name+","+ps[60].email), true).Records(); n != 1 {
		t.Fatal("new record not found")
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".edm-*"))
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

// appendNorm's fast path must agree with Normalize everywhere.
func FuzzAppendNorm(f *testing.F) {
	for _, s := range []string{"山田 太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ", "Ｕｓｅｒ＠Ｅｘａｍｐｌｅ．ｊｐ", "０９０−１２３４−５６７８",
		"03-1234-5678", "+81 90-1234-5678", "(+81)3-1234-5678", "＋８１ ９０", "+1 212 555 0100", "カ\u3099", "ゟ", "丽", "①②", "e\u0301", "(03)1234-5678", "C-000123",
		"山田e\u0301", "東京都千代田区丸の内１−１−１", "やまだか\u3099", "ﾔﾏﾀﾞﾀﾛｳ様", "Ｙａｍａｄａ　Ｔａｒｏｕ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []Kind{KindText, KindPhone} {
			if got, want := string(appendNorm(nil, k, []byte(s))), Normalize(k, s); got != want {
				t.Fatalf("kind %d %q: fast %q, Normalize %q", k, s, got, want)
			}
			// the shape found on the way is the shape of the result
			if got, shape := appendNormShape([]byte("x"), k, []byte(s)); len(got) > 1 && shape != shapeOf(got[1:]) {
				t.Fatalf("kind %d %q: shape %#x, shapeOf %#x", k, s, shape, shapeOf(got[1:]))
			}
		}
		// giving up early never turns away a value the index may hold
		want := Normalize(KindText, s)
		for i, tab := range fuzzShapeTables {
			got, _ := appendNormCapped(nil, KindText, []byte(s), tab.caps())
			if len(got) == 0 && want != "" && tab.has(shapeOf([]byte(want)), len(want)) {
				t.Fatalf("table %d: %q (%q) given up, but its shape and length are in the index", i, s, want)
			}
			if len(got) > 0 && string(got) != want {
				t.Fatalf("table %d: %q: capped %q, Normalize %q", i, s, got, want)
			}
		}
	})
}

// fuzzShapeTables are shape tables of a customer list and of short
// values of every class (a name of one accented letter: "é").
var fuzzShapeTables = func() []*Shapes {
	a, b := new(Shapes), new(Shapes)
	for _, p := range people(50) {
		for _, v := range []string{p.name, p.kana, p.email, p.id} {
			a.add([]byte(Normalize(KindText, v)))
		}
	}
	for _, v := range []string{"é", "が", "山", "a", "1", "@", "-", "ｶﾞ", "Å", "ab1", "山田é"} {
		b.add([]byte(Normalize(KindText, v)))
	}
	return []*Shapes{a, b}
}()

func TestSipHashVector(t *testing.T) {
	t.Parallel()
	// the reference vector of the SipHash paper (appendix A)
	k := sipKey{0x0706050403020100, 0x0f0e0d0c0b0a0908}
	msg := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	if got := siphash(k, msg); got != 0xa129ca6149be45e5 {
		t.Fatalf("siphash = %#x", got)
	}
}

func TestBloomFoldKeepsValues(t *testing.T) {
	t.Parallel()
	b := make(bloom, 1024*blockBytes)
	k := sipKey{1, 2}
	for i := range 5000 {
		b.add(siphash(k, fmt.Appendf(nil, "v%d", i)))
	}
	b = b.fold(5000)
	if b.blocks() != 128 {
		t.Fatalf("folded to %d blocks", b.blocks())
	}
	fp := 0
	for i := range 5000 {
		if !b.has(siphash(k, fmt.Appendf(nil, "v%d", i))) {
			t.Fatal("value lost in folding")
		}
		if b.has(siphash(k, fmt.Appendf(nil, "w%d", i))) {
			fp++
		}
	}
	if fp > 150 {
		t.Fatalf("false positives %d/5000", fp)
	}
}

// TestDecodeRune checks the inline decoder against utf8.DecodeRune on
// every three-byte lead with valid and invalid continuations, and on
// truncated and other input.
func TestDecodeRune(t *testing.T) {
	var inputs [][]byte
	for b0 := 0xC0; b0 <= 0xFF; b0++ {
		for _, b1 := range []byte{0x00, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0} {
			for _, b2 := range []byte{0x41, 0x80, 0xBF, 0xC0} {
				inputs = append(inputs, []byte{byte(b0), b1, b2}, []byte{byte(b0), b1})
			}
		}
	}
	inputs = append(inputs, []byte("山田"), []byte("ａ"), []byte("A"), []byte{}, []byte("\U0001F600"))
	for _, in := range inputs {
		r1, n1 := decodeRune(in)
		r2, n2 := utf8.DecodeRune(in)
		if r1 != r2 || n1 != n2 {
			t.Fatalf("% x: decodeRune = %U,%d; utf8 = %U,%d", in, r1, n1, r2, n2)
		}
	}
}

// TestShapesChangeNoResult matches the same texts with the shape table and
// without it (as an index written before shapes were recorded is read):
// the table only turns away values that cannot be in the index.
func TestShapesChangeNoResult(t *testing.T) {
	t.Parallel()
	ps := people(500)
	ix, _, _ := build(t, []byte(csvOf(ps, false)))
	if !ix.Info().HasShapes() || ix.shape == nil {
		t.Fatal("import recorded no value shapes")
	}
	old := &Index{info: ix.info, sip: ix.sip, bloom: ix.bloom, data: ix.data, tab: ix.tab, sh: ix.sh}
	old.setKey(testKey)
	var rows strings.Builder
	for i, p := range ps[:200] {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&rows, "%s,%s,東京都千代田区丸の内%d-1-1\n", p.name, p.phone, i)
		case 1:
			fmt.Fprintf(&rows, "%s\t%s\t2024/01/%02d\n", p.kana, p.email, i%28+1)
		case 2:
			fmt.Fprintf(&rows, "%s様 (%s)\n", strings.ReplaceAll(p.name, " ", ""), p.id)
		default:
			fmt.Fprintf(&rows, "%s,%s\n", p.name, ps[i+1].phone) // two records, one field each
		}
	}
	for _, tabular := range []bool{true, false} {
		a := ix.Match([]byte(rows.String()), tabular)
		b := old.Match([]byte(rows.String()), tabular)
		if a.Records() != b.Records() || !reflect.DeepEqual(a.recs, b.recs) {
			t.Fatalf("tabular %v: %d records with shapes, %d without", tabular, a.Records(), b.Records())
		}
		if a.Records() < 100 {
			t.Fatalf("tabular %v: only %d records found", tabular, a.Records())
		}
	}
	// a shape no value has is turned away; one that some value has is not
	has := func(v string) bool { return ix.shape.has(shapeOf([]byte(v)), len(v)) }
	if has(Normalize(KindText, "東京都千代田区丸の内1-1-1")) || has("2024/01/05") {
		t.Error("address or date shape accepted")
	}
	if n := Normalize(KindText, ps[3].email); !has(n) {
		t.Errorf("shape of an indexed e-mail %q refused", n)
	}
}

// TestStreamPieces writes texts to a Stream in pieces cut anywhere (inside
// a line, inside a rune): the records are those of Match on the whole text.
func TestStreamPieces(t *testing.T) {
	t.Parallel()
	ps := people(300)
	ix, _, _ := build(t, []byte(csvOf(ps, false)))
	var text strings.Builder
	for i, p := range ps[:150] {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&text, "%s,%s,東京都千代田区丸の内%d-1-1\n", p.name, p.phone, i)
		case 1:
			fmt.Fprintf(&text, "%s\t%s\n\n", p.kana, p.email)
		case 2:
			fmt.Fprintf(&text, "%s様\n(%s)\n", strings.ReplaceAll(p.name, " ", ""), p.id)
		case 3:
			fmt.Fprintf(&text, "  \n%s 様のご連絡先は %s です。\r\n", p.name, p.phone)
		default:
			fmt.Fprintf(&text, "%s,%s", p.name, ps[i+1].phone) // no newline: joins the next line
		}
	}
	whole := []byte(text.String())
	rng := rand.New(rand.NewPCG(19, 19))
	for _, tabular := range []bool{true, false} {
		want := ix.Match(whole, tabular)
		if want.Records() < 50 {
			t.Fatalf("tabular %v: only %d records in the whole text", tabular, want.Records())
		}
		for range 50 {
			st := ix.NewStream(tabular)
			for rest := whole; len(rest) > 0; {
				n := min(len(rest), 1+rng.IntN(300))
				if rng.IntN(8) == 0 {
					n = 0 // an empty piece
				}
				st.Write(rest[:n])
				rest = rest[n:]
			}
			got := st.Match()
			if !reflect.DeepEqual(got.recs, want.recs) {
				t.Fatalf("tabular %v: %d records from pieces, %d from the whole text", tabular, got.Records(), want.Records())
			}
		}
	}
}

// TestPrefilterKeepsMatches imports random records (names in kanji, kana,
// half-width kana, Latin letters with and without decomposed accents, ids
// and e-mail addresses in full width) and finds every one written in a
// row with two of its values, in another width or script: the shape
// check, the early give-up and the filter turn away no value of the index.
// Prose is matched alike with and without shapes.
func TestPrefilterKeepsMatches(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 2026))
	pick := func(alpha []rune, lo, hi int) string {
		n := lo + rng.IntN(hi-lo+1)
		var b strings.Builder
		for range n {
			b.WriteRune(alpha[rng.IntN(len(alpha))])
		}
		return b.String()
	}
	var kanji, hira, kata, halfKana, latin []rune
	for range 300 {
		kanji = append(kanji, rune(0x4E00+rng.IntN(0x9FFF-0x4E00)))
	}
	for r := rune(0x3041); r <= 0x3093; r++ {
		hira = append(hira, r)
		kata = append(kata, r+0x60)
	}
	for r := rune(0xFF66); r <= 0xFF9D; r++ {
		halfKana = append(halfKana, r)
	}
	latin = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüñ")
	name := func() string {
		switch rng.IntN(6) {
		case 0:
			return pick(kanji, 2, 3) + " " + pick(kanji, 1, 3)
		case 1:
			return pick(kanji, 1, 2) + pick(hira, 1, 3) // 山田はな
		case 2:
			return pick(latin, 1, 8) + " " + pick(latin, 2, 8)
		case 3:
			return pick(latin, 1, 4) + "e\u0301" // decomposed accent at the end
		case 4:
			return pick(kanji, 4, 7)
		}
		return pick(kata, 2, 6)
	}
	fullWidth := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if r > ' ' && r < 0x7F {
				r += 0xFEE0
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	toKata := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if r >= 0x3041 && r <= 0x3096 {
				r += 0x60
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	type rec struct{ v [5]string }
	recs := make([]rec, 3000)
	var csv strings.Builder
	for i := range recs {
		r := &recs[i]
		r.v[0] = name()
		r.v[1] = pick(append(hira, halfKana...), 2, 8)
		r.v[2] = fmt.Sprintf("0%d-%04d-%04d", 3+rng.IntN(7), rng.IntN(10000), rng.IntN(10000))
		r.v[3] = fmt.Sprintf("%s.%d@%s.example", pick(latin[:26], 1, 6), i, pick(latin[:26], 2, 5))
		r.v[4] = fmt.Sprintf("K-%06d", rng.IntN(1000000))
		fmt.Fprintf(&csv, "%s\n", strings.Join(r.v[:], ","))
	}
	ix, _, _ := build(t, []byte(csv.String()))
	old := &Index{info: ix.info, sip: ix.sip, bloom: ix.bloom, data: ix.data, tab: ix.tab, sh: ix.sh}
	old.setKey(testKey)
	var rows, prose strings.Builder
	for i, r := range recs {
		a, b := rng.IntN(5), rng.IntN(5)
		if a == b {
			b = (a + 1) % 5
		}
		va, vb := r.v[a], r.v[b]
		switch i % 3 {
		case 1:
			va, vb = fullWidth(va), fullWidth(vb)
		case 2:
			va, vb = toKata(va), toKata(vb)
		}
		if i%2 == 0 {
			fmt.Fprintf(&rows, "%s,%s\n", va, vb)
		} else {
			fmt.Fprintf(&rows, "%s\t\"%s\"\n", va, vb)
		}
		fmt.Fprintf(&prose, "%s様 %s\n\n", va, vb)
	}
	got := ix.Match([]byte(rows.String()), true)
	if got.Records() != len(recs) {
		t.Errorf("%d of %d records found in their rows", got.Records(), len(recs))
	}
	if want := old.Match([]byte(rows.String()), true); !reflect.DeepEqual(got.recs, want.recs) {
		t.Errorf("rows: %d records with shapes, %d without", got.Records(), want.Records())
	}
	got = ix.Match([]byte(prose.String()), false)
	if want := old.Match([]byte(prose.String()), false); !reflect.DeepEqual(got.recs, want.recs) {
		t.Errorf("prose: %d records with shapes, %d without", got.Records(), want.Records())
	}
	t.Logf("prose: %d of %d records", got.Records(), len(recs))
}

// cellStats reads a cell once for what digitCount and the former
// allDigits and asciiWord said.
func TestCellStats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in           string
		digits       int
		allDig, word bool
	}{
		{"", 0, false, true},
		{"000000392561", 12, true, true},
		{"090-1000-5000", 11, false, true},
		{"sato.1@mail.example.jp", 1, false, true},
		{"０９０１２３", 6, false, false},
		{"佐藤 太郎", 0, false, false},
		{"C 0001", 4, false, false},
		{"Sato.Taro@Example.JP", 0, false, true},
		{"100-0000", 7, false, true},
		{"東京都丸の内1-1-1", 3, false, false},
	} {
		st := cellStats([]byte(tc.in))
		d, a, w := st.digits, st.allDig, st.word
		if d != tc.digits || a != tc.allDig || w != tc.word || d != digitCount([]byte(tc.in)) {
			t.Errorf("cellStats(%q) = %d, %v, %v; want %d, %v, %v", tc.in, d, a, w, tc.digits, tc.allDig, tc.word)
		}
		n := Normalize(KindText, tc.in)
		if ascii := utf8.ValidString(tc.in) && len([]rune(tc.in)) == len(tc.in); st.ascii != ascii ||
			ascii && (st.textLen != len(n) || st.shape != shapeOf([]byte(n))) {
			t.Errorf("cellStats(%q): ascii %v, text form %d bytes, shape %#x; Normalize %q", tc.in, st.ascii, st.textLen, st.shape, n)
		}
	}
}

// trimCell agrees with bytes.Trim(bytes.TrimSpace(c), `"`).
func FuzzTrimCell(f *testing.F) {
	for _, s := range []string{"佐藤 太郎", " 佐藤\u3000", "\"a\"", "x\xe4\xc2\xa0", "\u3000\u3000", "ab", "a ", "\u00a0山", "山\u2003", "ｱ", "、", "\xe3\x80\x80x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, c []byte) {
		if got, want := trimCell(c), bytes.Trim(bytes.TrimSpace(c), `"`); !bytes.Equal(got, want) {
			t.Fatalf("trimCell(%q) = %q, want %q", c, got, want)
		}
	})
}

// digitCountBytewise is digitCount read byte by byte, without stepping
// over three-byte sequences.
func digitCountBytewise(b []byte) int {
	n := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			n++
		case c == 0xEF && i+2 < len(b) && b[i+1] == 0xBC && b[i+2] >= 0x90 && b[i+2] <= 0x99:
			n++
			i += 2
		}
	}
	return n
}

// cellStatsBytewise is cellStats read byte by byte.
func cellStatsBytewise(b []byte) cellInfo {
	st := cellInfo{allDig: len(b) > 0, word: true, ascii: true}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < utf8.RuneSelf {
			if a := asciiText[c]; a.shape != 0 {
				st.textLen++
				st.shape |= a.shape
			}
			if c >= '0' && c <= '9' {
				st.digits++
				continue
			}
			st.allDig = false
			st.word = st.word && wordByte[c]
			continue
		}
		st.allDig, st.word, st.ascii = false, false, false
		if c == 0xEF && i+2 < len(b) && b[i+1] == 0xBC && b[i+2] >= 0x90 && b[i+2] <= 0x99 {
			st.digits++
			i += 2
		}
	}
	return st
}

// digitCount and cellStats, which step over kana and kanji whole, count
// what a byte-by-byte reading counts, in valid and invalid UTF-8.
func FuzzDigitCount(f *testing.F) {
	for _, s := range []string{"090-1234-5678", "０９０１２３", "", "a.b@c", "Sato Taro", "000123", " 12\t", "東京都丸の内1-1-1", "\xe3\xef\xbc\x90", "\xef\xbc\x90\xef\xbc",
		"ab\xe3\x81", "\xef\xbc\x99x", "山田\xe4\xb8", "\xe3\x80\x80１"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := digitCountBytewise(b)
		if got := digitCount(b); got != want {
			t.Fatalf("digitCount(%q) = %d, want %d", b, got, want)
		}
		st, ref := cellStats(b), cellStatsBytewise(b)
		if st.digits != want || !ref.ascii && (st.allDig || st.word || st.ascii) || ref.ascii && st != ref {
			t.Fatalf("cellStats(%q) = %+v, want %+v", b, st, ref)
		}
	})
}

// classAt agrees with decodeRune and class on every rune of the BMP and
// on cut and invalid sequences.
func TestClassAt(t *testing.T) {
	t.Parallel()
	check := func(b []byte) {
		r, n := decodeRune(b)
		c := class(r)
		odd := c == clsHan && (r < 0x4E00 || r > 0x9FFF) || c == clsKata && r > 0x30FC
		if gc, gn, godd := classAt(b, 0); gc != c || gn != n || godd != odd {
			t.Fatalf("classAt(%q) = %d, %d, %v; want %d, %d, %v", b, gc, gn, godd, c, n, odd)
		}
	}
	for r := rune(0); r < 0x10000; r++ {
		b := utf8.AppendRune(nil, r)
		check(b)
		check(append(b, 'x'))
		if len(b) > 1 {
			check(b[:len(b)-1])
		}
	}
	for b0 := 0xE0; b0 <= 0xEF; b0++ {
		for _, b1 := range []byte{0x41, 0x80, 0x81, 0x82, 0xB8, 0xBF, 0xC0} {
			for _, b2 := range []byte{0x41, 0x80, 0x96, 0x97, 0xBF, 0xC0} {
				check([]byte{byte(b0), b1, b2})
			}
		}
	}
}

// run and runFanout, which read a slot in order before they bisect, find
// the ranges bisection finds: runs of one to 300 entries, slots crowded with other
// hashes, and hashes that are absent.
func TestRunMatchesBisection(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var hs []uint64
	for range 3000 {
		h := rng.Uint64()
		if rng.IntN(4) == 0 && len(hs) > 0 { // crowd an earlier hash's slot
			h = hs[rng.IntN(len(hs))]&^0xFFFFFF | h&0xFFFFFF
		}
		n := 1 + rng.IntN(3)
		if rng.IntN(20) == 0 {
			n = 1 + rng.IntN(300)
		}
		for range n {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	ix := &Index{data: make([]byte, len(hs)*entrySize)}
	for i, h := range hs {
		binary.BigEndian.PutUint64(ix.data[i*entrySize:], h)
	}
	ix.info.Entries = len(hs)
	ix.buildTable()
	check := func(h uint64) {
		lo, hi := ix.run(h)
		wlo, _ := slices.BinarySearch(hs, h)
		whi := wlo
		for whi < len(hs) && hs[whi] == h {
			whi++
		}
		if lo != wlo || hi != whi {
			t.Fatalf("run(%#x) = %d, %d; want %d, %d", h, lo, hi, wlo, whi)
		}
		if whi-wlo > maxFanout {
			whi = -1
		}
		if lo, hi := ix.runFanout(h); lo != wlo || hi != whi {
			t.Fatalf("runFanout(%#x) = %d, %d; want %d, %d", h, lo, hi, wlo, whi)
		}
	}
	for _, h := range hs {
		check(h)
		check(h + 1)
		check(h - 1)
	}
	for range 10000 {
		check(rng.Uint64())
	}
}

// checkReadCell compares readCell, which reads an ASCII cell's shape and
// both its normalised forms in one pass, with the former path: cellStats,
// then appendNormCapped for the text and the phone form; and the digits
// proseCell counts in a non-ASCII cell with cellStats'.
func checkReadCell(t *testing.T, s *scanner, b []byte) {
	t.Helper()
	if len(b) > maxCell {
		b = b[:maxCell]
	}
	st, ref := s.readCell(b), cellStats(b)
	if !ref.ascii {
		if st.ascii || st.text != nil || st.phoneForm != nil {
			t.Fatalf("readCell(%q) = %+v: forms of a non-ASCII cell", b, st)
		}
		// proseCell reads the rest, counting digits as cellStats
		if d := s.proseCell(b); d != ref.digits || d != digitCountBytewise(b) {
			t.Fatalf("proseCell(%q) counted %d digits, cellStats %d", b, d, ref.digits)
		}
		return
	}
	if st.cellInfo != ref {
		t.Fatalf("readCell(%q) = %+v, cellStats %+v", b, st.cellInfo, ref)
	}
	text, shape := appendNormCapped(nil, KindText, b, nil)
	if !bytes.Equal(st.text, text) || len(text) > 0 && shape != st.shape {
		t.Fatalf("readCell(%q): text %q shape %#x, appendNorm %q %#x", b, st.text, st.shape, text, shape)
	}
	if n := Normalize(KindText, string(b)); string(st.text) != n {
		t.Fatalf("readCell(%q): text %q, Normalize %q", b, st.text, n)
	}
	phone, _ := appendNormCapped(nil, KindPhone, b, nil)
	if !bytes.Equal(st.phoneForm, phone) || string(phone) != Normalize(KindPhone, string(b)) {
		t.Fatalf("readCell(%q): phone %q, appendNorm %q, Normalize %q", b, st.phoneForm, phone, Normalize(KindPhone, string(b)))
	}
}

func readCellIndex(t testing.TB) *Index {
	ix, _, _ := build(t, []byte("山田 太郎,ヤマダ タロウ,090-1234-5678,taro@x.example,C1\n"))
	return ix
}

var readCellSeeds = []string{"", "090-1234-5678", "+81 90-1234-5678", " (+81) 3 1234 5678", "(03)1234-5678", "03.1234.5678",
	"0312345678901234", "031234567890123", "+8112345678", "+81-3-1234", "81312345678", "Sato.Taro@Example.JP", "C0001234",
	"100-0000", "12345678", "1234 5678 9", "090-1234-5678 ext", "090\t1234\t5678", "a b\tc\x00\x7f", "\"1\"", "０９０", "佐藤 太郎",
	"090-1234-5678\xe3", "+", "((((", "+81", "++81 312345678"}

// readCell agrees with the former reading on random and adversarial cells.
func TestReadCell(t *testing.T) {
	t.Parallel()
	s := newScanner(readCellIndex(t))
	for _, c := range readCellSeeds {
		checkReadCell(t, s, []byte(c))
	}
	checkReadCell(t, s, bytes.Repeat([]byte("9"), maxCell+5))
	checkReadCell(t, s, []byte(strings.Repeat("0-", maxCell/2)))
	rng := rand.New(rand.NewPCG(19, 3))
	alpha := []byte("0123456789+-().  \tabcXYZ@_%,\"\x00\x7f\xe3\x81\x82")
	var b []byte
	for range 200_000 {
		b = b[:0]
		for range rng.IntN(24) {
			if rng.IntN(8) == 0 {
				b = append(b, byte(rng.IntN(256)))
			} else {
				b = append(b, alpha[rng.IntN(len(alpha))])
			}
		}
		checkReadCell(t, s, b)
	}
}

func FuzzReadCell(f *testing.F) {
	for _, c := range readCellSeeds {
		f.Add([]byte(c))
	}
	s := newScanner(readCellIndex(f))
	f.Fuzz(func(t *testing.T, b []byte) { checkReadCell(t, s, b) })
}

// rowBefore is row as it read a cell before readCell and proseCell: the
// cell normalised as text and as a phone, then read again by prose.
func rowBefore(s *scanner, line []byte) {
	sep := byte(',')
	if bytes.IndexByte(line, '\t') >= 0 {
		sep = '\t'
	}
	for _, cell := range bytes.Split(line, []byte{sep}) {
		cell = trimCell(cell)
		if len(cell) == 0 || len(cell) > maxCell {
			continue
		}
		st := cellStats(cell)
		if !st.ascii || s.ix.shape == nil || s.ix.shape.has(st.shape, st.textLen) {
			s.add(KindText, cell)
		}
		if st.digits >= minPhoneDigits && !st.allDig {
			s.add(KindPhone, cell)
		}
		if !st.word {
			s.cell = cell
			s.prose(cell, st.digits)
			s.cell = nil
		}
	}
}

func seenSet(v *valueSet) []uint64 {
	out := slices.Clone(v.small)
	for h := range v.big {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// randomCell mixes the scripts of names and lists with what normalisation
// treats apart: half-width kana, combining marks, 々, ヷ, full-width forms,
// ideographic spaces, cut and invalid UTF-8.
func randomCell(rng *rand.Rand, pieces []string) string {
	var b strings.Builder
	for range rng.IntN(7) {
		if rng.IntN(12) == 0 {
			p := pieces[rng.IntN(len(pieces))]
			b.WriteString(p[:rng.IntN(len(p)+1)]) // possibly cut inside a rune
			continue
		}
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

var cellPieces = []string{"山田", "太郎", "佐藤", "様", "殿", "氏", "はな", "ヤマダ", "タロウ", "ｻﾄｳ", "ﾀﾞ", "々", "〆", "ヶ", "ヷ", "ヺ", "ー",
	"か\u3099", "e\u0301", "é", "\u3000", " ", "\t", "０９０", "－", "１２３４", "５６７８", "090", "-", "1234", "5678", "+81", "(03)",
	"ＡＢＣ", "ｘ＠ｙ", "Sato", "Taro", "user1@customer.example.net", "C0000001", "K-123456", "\"", "\xe3\x81", "\xff", "\x00",
	"ㇰ", "丽", "𠀋", "ゟ", "・", "、", "ゔ", "ヴ", "〜", "㈱", "Ⅲ"}

// row, which reads a cell's forms and tokens in one pass (readCell,
// proseCell), looks up the same values, finds the same hits and the same
// records as the former reading, with and without value shapes, on random
// rows of mixed scripts and adversarial bytes and on rows of the index's
// own records in other widths and scripts.
func TestRowOnePass(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 4))
	var csv strings.Builder
	for i := range 400 {
		c := func() string {
			return strings.ReplaceAll(strings.ReplaceAll(randomCell(rng, cellPieces), ",", ""), "\"", "")
		}
		fmt.Fprintf(&csv, "%s,%s,0%d-%04d-%04d,u%d@x.example,%s\n", c(), c(), 3+rng.IntN(7), rng.IntN(10000), rng.IntN(10000), i, c())
	}
	ix, _, _ := build(t, []byte(csv.String()))
	noShape := &Index{info: ix.info, sip: ix.sip, bloom: ix.bloom, data: ix.data, tab: ix.tab, sh: ix.sh}
	noShape.setKey(testKey)
	records := strings.Split(strings.TrimSpace(csv.String()), "\n")
	for _, x := range []*Index{ix, noShape} {
		a, b := newScanner(x), newScanner(x)
		for n := range 20_000 {
			var line string
			switch n % 3 {
			case 0: // a record's row, some cells in other widths or scripts
				line = records[rng.IntN(len(records))]
				if rng.IntN(2) == 0 {
					line = strings.NewReplacer("ヤ", "ﾔ", "山", "山 ", ",", "\t", "0", "０").Replace(line)
				}
			default:
				var cells []string
				for range 1 + rng.IntN(5) {
					cells = append(cells, randomCell(rng, cellPieces))
				}
				line = strings.Join(cells, ",")
			}
			rowBefore(a, []byte(line))
			b.row([]byte(line))
			a.drain() // the filter probes and lookups flush would make
			b.drain()
			if sa, sb := seenSet(&a.seen), seenSet(&b.seen); !slices.Equal(sa, sb) {
				t.Fatalf("row %q: %d values looked up, %d before", line, len(sb), len(sa))
			}
			if !reflect.DeepEqual(a.hits, b.hits) || !reflect.DeepEqual(a.big, b.big) {
				t.Fatalf("row %q: hits %v %v, before %v %v", line, b.hits, b.big, a.hits, a.big)
			}
			a.flush()
			b.flush()
		}
		if !reflect.DeepEqual(a.recs, b.recs) {
			t.Fatalf("%d records found, %d before", len(b.recs), len(a.recs))
		}
		t.Logf("shapes %v: %d records", x.shape != nil, len(b.recs))
	}
}

// FuzzRowOnePass is TestRowOnePass on fuzzed rows.
func FuzzRowOnePass(f *testing.F) {
	for _, s := range cellPieces {
		f.Add([]byte(s))
	}
	f.Add([]byte("山田 太郎様,ヤマダ タロウ,090-1234-5678,ｻﾄｳ\u3000ﾀﾛｳ,\"１２３\""))
	ix, _, _ := build(f, []byte("山田 太郎,ヤマダ タロウ,090-1234-5678,taro@x.example,C1\n佐藤 はな,ｻﾄｳ ﾊﾅ,03-1234-5678,hana@x.example,K-1\n"))
	a, b := newScanner(ix), newScanner(ix)
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return
		}
		rowBefore(a, line)
		b.row(line)
		a.drain()
		b.drain()
		sa, sb := seenSet(&a.seen), seenSet(&b.seen)
		hitsEqual := reflect.DeepEqual(a.hits, b.hits) && reflect.DeepEqual(a.big, b.big)
		a.flush()
		b.flush()
		if !slices.Equal(sa, sb) || !hitsEqual || !reflect.DeepEqual(a.recs, b.recs) {
			t.Fatalf("row %q: looked up %d values, %d before; records %v, before %v", line, len(sb), len(sa), b.recs, a.recs)
		}
	})
}

// A paragraph holding more candidates than are held back for their filter
// probes (maxPending) is matched in several drains: a record whose values
// stand at its two ends, apart by hundreds of other candidates, is found
// (the first value held through the drains until the second passes the
// filter), with a common value before them or without, and no candidate
// is left pending.
func TestLongParagraphDrains(t *testing.T) {
	t.Parallel()
	ps := people(2000)
	ix, _, _ := build(t, []byte(csvOf(ps, false)))
	p := ps[1234]
	for _, first := range []string{"", ps[7].phone + " "} { // the switchboard: more than maxFanout records
		var b strings.Builder
		b.WriteString(first + p.email + "\n")
		for i := range 5 * maxPending {
			fmt.Fprintf(&b, "C%07d user%d@example.org\n", 5000+i, 5000+i) // of a value's shape, in no record
		}
		b.WriteString("連絡先 " + p.phone + "\n")
		st := ix.NewStream(false)
		s := st.s
		most := 0
		for _, line := range strings.SplitAfter(b.String(), "\n") {
			st.Write([]byte(line))
			if len(s.pend) >= maxPending {
				t.Fatalf("%d candidates pending", len(s.pend))
			}
			most = max(most, len(s.pend))
		}
		if most < maxPending-2 {
			t.Fatalf("at most %d candidates pending: the paragraph did not need several drains", most)
		}
		m := st.Match()
		// record numbers count from 1; fields phone (2) and email (3)
		if f, ok := m.recs[1235]; m.Records() != 1 || !ok || f != 1<<2|1<<3 {
			t.Fatalf("%q first: records %v, want record 1235 alone, phone and email", first, m.recs)
		}
	}
}

// drainEager is drain as it was before a unit's single candidate past the
// filter was held: every such candidate looked up at once.
func drainEager(s *scanner) {
	for _, p := range s.pend {
		if s.ix.bloom.has(p.sh) {
			s.lookup(s.pendBuf[p.off : p.off+p.n])
		}
	}
	s.pend, s.pendBuf = s.pend[:0], s.pendBuf[:0]
}

// Holding a unit's single candidate past the filter instead of looking it
// up finds the same records as looking up every candidate, on rows and
// paragraphs of the index's records (whole, cut to one field, in other
// widths), of common values alone, and of random cells; and it does skip
// the lookups of the rows with one such candidate.
func TestHeldSameRecords(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 5))
	ps := people(3000)
	ix, _, _ := build(t, []byte(csvOf(ps, false)))
	one := func(p person) string { return []string{p.name, p.kana, p.phone, p.email, p.id}[rng.IntN(5)] }
	skipped := 0
	for _, tabular := range []bool{true, false} {
		a, b := newScanner(ix), newScanner(ix)
		for n := range 6000 {
			p, q := ps[rng.IntN(len(ps))], ps[rng.IntN(len(ps))]
			var line string
			switch n % 5 {
			case 0:
				line = strings.Join([]string{p.name, p.kana, p.phone, p.email, p.id}, ",")
			case 1: // one field of a record, and random cells
				line = one(p) + "," + randomCell(rng, cellPieces) + "," + randomCell(rng, cellPieces)
			case 2: // common values: a name, a reading, the switchboard
				line = p.name + "," + q.kana + "," + ps[7].phone
			case 3: // two records' fields, one of each
				line = strings.NewReplacer("ヤ", "ﾔ", "0", "０").Replace(one(p) + "," + one(q))
			default:
				line = randomCell(rng, cellPieces) + "," + randomCell(rng, cellPieces)
			}
			if !tabular {
				line = strings.ReplaceAll(line, ",", " ")
			}
			if tabular {
				a.row([]byte(line))
				b.row([]byte(line))
			} else {
				a.prose([]byte(line), digitCount([]byte(line)))
				b.prose([]byte(line), digitCount([]byte(line)))
			}
			drainEager(a)
			b.drain()
			if len(a.hits)+len(a.big) > 0 && len(b.hits)+len(b.big) == 0 {
				skipped++
			}
			a.flush()
			b.flush()
			if !reflect.DeepEqual(a.recs, b.recs) {
				t.Fatalf("tabular %v, %q: records %v, looking up every candidate %v", tabular, line, b.recs, a.recs)
			}
		}
		t.Logf("tabular %v: %d records", tabular, len(b.recs))
	}
	if skipped == 0 {
		t.Fatal("no unit's lookup was skipped")
	}
	t.Logf("%d units not looked up", skipped)
}
