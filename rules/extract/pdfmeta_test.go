package extract

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/encoding/japanese"
)

func utf16Hex(s string) string {
	var b bytes.Buffer
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteString(strings.ToUpper(hex.EncodeToString([]byte{byte(u >> 8), byte(u)})))
	}
	b.WriteString(">")
	return b.String()
}

func spilledOf(b []byte) *spilled {
	return &spilled{ReaderAt: bytes.NewReader(b), size: int64(len(b)), close: func() {}}
}

func TestPDFProperties(t *testing.T) {
	sjis, _ := japanese.ShiftJIS.NewEncoder().String("極秘(案)")
	body := "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"
	tests := []struct {
		name string
		pdf  string
		want []string
		not  []string
	}{
		{"UTF-16 title, literal subject with escapes, author left out",
			body + "5 0 obj\n<< /Title " + utf16Hex("社外秘 価格表") + " /Subject (Q1 \\(draft\\)\\nplan) /Author (機密 太郎) /Producer (x) >>\nendobj\n" +
				"trailer << /Root 1 0 R /Info 5 0 R >>\n%%EOF\n",
			[]string{"社外秘 価格表", "Q1 (draft)\nplan"}, []string{"機密 太郎"}},
		{"Shift_JIS literal keywords",
			body + "7 0 obj << /Keywords (" + strings.NewReplacer("(", "\\(", ")", "\\)").Replace(sjis) + ") >> endobj\ntrailer << /Info 7 0 R >>\n",
			[]string{"極秘(案)"}, nil},
		{"indirect title, incremental update wins",
			body + "3 0 obj << /Title (old) >> endobj\n9 0 obj (Confidential) endobj\n4 0 obj << /Title 9 0 R /TitleX (no) >> endobj\n" +
				"trailer << /Info 3 0 R >>\ntrailer << /Info 4 0 R >>\n",
			[]string{"Confidential"}, []string{"old", "no"}},
		{"XMP packet",
			body + "2 0 obj << /Type /Metadata /Subtype /XML >> stream\n<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">関係者外秘 &amp; 人事</rdf:li></rdf:Alt></dc:title>" +
				"<dc:creator><rdf:Seq><rdf:li>極秘 花子</rdf:li></rdf:Seq></dc:creator><pdf:Keywords>取扱注意</pdf:Keywords></x:xmpmeta>\nendstream endobj\n",
			[]string{"関係者外秘 & 人事", "取扱注意"}, []string{"花子"}},
		{"encrypted: strings are ciphertext",
			body + "5 0 obj << /Title (x\\223\\001) >> endobj\ntrailer << /Info 5 0 R /Encrypt 6 0 R >>\n", nil, []string{"x"}},
		{"no metadata", body + "trailer << /Root 1 0 R >>\n", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(pdfProperties(spilledOf([]byte(tc.pdf))))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("properties %q lack %q", got, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("properties %q contain %q", got, n)
				}
			}
			if tc.want == nil && got != "" {
				t.Errorf("properties %q, want none", got)
			}
		})
	}
}

func FuzzPDFProperties(f *testing.F) {
	f.Add([]byte("trailer << /Info 5 0 R >> 5 0 obj << /Title (a\\(b) /Subject <FEFF0041> >> endobj"))
	f.Add([]byte("<x:xmpmeta><dc:title>t</dc:title></x:xmpmeta>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = pdfProperties(spilledOf(b))
	})
}

// chunksOf holds b in memory chunks, through spill.
func chunksOf(tb testing.TB, b []byte) *spilled {
	w := &walker{lim: Limits{MaxMemory: 64 << 20, MaxMemoryTotal: 256 << 20, TempDir: tb.TempDir()}.withDefaults()}
	sp, err := w.spill(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	if _, ok := sp.ReaderAt.(*chunks); !ok {
		tb.Fatalf("held as %T, not in memory", sp.ReaderAt)
	}
	tb.Cleanup(sp.close)
	return sp
}

// bigPDF is a PDF of about size bytes whose information dictionary, near
// its end, has title; filler separates it from the header.
func bigPDF(size int, title string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n2 0 obj << /Length 0 >> stream\n")
	line := strings.Repeat("0123456789abcdef", 8) + "\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	b.WriteString("endstream endobj\n")
	if title != "" {
		b.WriteString("5 0 obj << /Title (" + title + ") >> endobj\ntrailer << /Root 1 0 R /Info 5 0 R >>\n")
	}
	b.WriteString("%%EOF\n")
	return b.Bytes()
}

// The windows are pooled: a PDF read after a larger one finds nothing of
// the larger one's bytes, in memory or in a file, head or tail window.
func TestPDFPropertiesPooledWindows(t *testing.T) {
	big := bigPDF(pdfMetaWindow+pdfMetaWindow/2, "Larger one")
	small := bigPDF(64<<10, "")
	for name, of := range map[string]func([]byte) *spilled{"reader": spilledOf, "chunks": func(b []byte) *spilled { return chunksOf(t, b) }} {
		t.Run(name, func(t *testing.T) {
			for range 3 {
				if got := string(pdfProperties(of(big))); got != "Larger one\n" {
					t.Fatalf("large PDF: properties %q", got)
				}
				if got := pdfProperties(of(small)); got != nil {
					t.Fatalf("small PDF after a large one: properties %q", got)
				}
				// a title in the tail window of a PDF over the window size
				tail := bigPDF(2*pdfMetaWindow, "秘 tail")
				if got := string(pdfProperties(of(tail))); got != "秘 tail\n" {
					t.Fatalf("tail window: properties %q", got)
				}
			}
		})
	}
}

// BenchmarkPDFProperties: a 12 MB PDF held in memory as spill holds it,
// its information object near the end (where most producers write it) or
// near the start (linearized files), named by the trailer at the end.
func BenchmarkPDFProperties(b *testing.B) {
	atStart := bigPDF(12<<20, "")
	atStart = bytes.Replace(atStart, []byte("%PDF-1.7\n"), []byte("%PDF-1.7\n5 0 obj << /Title (社外秘) >> endobj\n"), 1)
	atStart = bytes.Replace(atStart, []byte("%%EOF\n"), []byte("trailer << /Root 1 0 R /Info 5 0 R >>\n%%EOF\n"), 1)
	for _, c := range []struct {
		name string
		pdf  []byte
	}{{"info-at-end", bigPDF(12<<20, "社外秘")}, {"info-at-start", atStart}} {
		b.Run(c.name, func(b *testing.B) {
			sp := chunksOf(b, c.pdf)
			b.SetBytes(sp.size)
			b.ReportAllocs()
			for b.Loop() {
				if string(pdfProperties(sp)) != "社外秘\n" {
					b.Fatal("no properties")
				}
			}
		})
	}
}

// objHeaderRegexp is how lastObjHeader's headers were found before: the
// reference it must agree with.
func objHeaderRegexp(win, num, gen []byte) int {
	re := regexp.MustCompile(`(?:^|[^0-9])` + string(num) + `\s+` + string(gen) + `\s+obj\b`)
	locs := re.FindAllIndex(win, -1)
	if len(locs) == 0 {
		return -1
	}
	return locs[len(locs)-1][1]
}

func TestLastObjHeader(t *testing.T) {
	for _, tc := range []struct {
		win, num, gen string
		want          int
	}{
		{"5 0 obj", "5", "0", 7},
		{"x 5 0 obj << >> endobj 5 0 obj (b)", "5", "0", 30},
		{"15 0 obj", "5", "0", -1},
		{"5 10 obj", "5", "0", -1},
		{"5 0 objx", "5", "0", -1},
		{"5 0 obj_", "5", "0", -1},
		{"5 0 obj/", "5", "0", 7},
		{"5\r\n\t0\f obj", "5", "0", 10},
		{"50 obj", "5", "0", -1},
		{"a5 0 obj", "5", "0", 8},
		{"5 0 obj 5 0 endobj", "5", "0", 7},
		{"5 0 objobj", "5", "0", -1},
		{"5 0\vobj", "5", "0", -1}, // \v is not \s
		{"", "5", "0", -1},
	} {
		got := lastObjHeader([]byte(tc.win), []byte(tc.num), []byte(tc.gen))
		ref := objHeaderRegexp([]byte(tc.win), []byte(tc.num), []byte(tc.gen))
		if got != tc.want || ref != tc.want {
			t.Errorf("%q %s %s: got %d, regexp %d, want %d", tc.win, tc.num, tc.gen, got, ref, tc.want)
		}
	}
}

// FuzzLastObjHeader holds lastObjHeader to the regular expression it
// replaced.
func FuzzLastObjHeader(f *testing.F) {
	f.Add([]byte("x 5 0 obj << >> endobj 15 0 obj"), uint32(5), uint16(0))
	f.Add([]byte("1 0 obj\n12 3 obj 12\t3\nobj_ 12 3 obj"), uint32(12), uint16(3))
	f.Fuzz(func(t *testing.T, win []byte, num uint32, gen uint16) {
		n, g := []byte(strconv.FormatUint(uint64(num), 10)), []byte(strconv.FormatUint(uint64(gen), 10))
		if got, want := lastObjHeader(win, n, g), objHeaderRegexp(win, n, g); got != want {
			t.Fatalf("%q %s %s: got %d, regexp %d", win, n, g, got, want)
		}
	})
}

// Windows drawn from the bytes that matter (digits, white space, obj,
// word bytes) hold lastObjHeader to the regular expression more densely
// than random bytes do.
func TestLastObjHeaderAgrees(t *testing.T) {
	parts := []string{"5", "0", "1", "12", " ", "\n", "\r\n", "\v", "obj", "endobj", "x", "_", "/", "<<",
		"5 0 obj", "12 1 obj", "1 12 obj", "5 0", "12 1", " obj", "\tobj"}
	rng := rand.New(rand.NewPCG(1, 2))
	found := 0
	for range 20000 {
		var b []byte
		for range rng.IntN(24) {
			b = append(b, parts[rng.IntN(len(parts))]...)
		}
		for _, ng := range [][2]string{{"5", "0"}, {"12", "1"}, {"1", "12"}} {
			got, want := lastObjHeader(b, []byte(ng[0]), []byte(ng[1])), objHeaderRegexp(b, []byte(ng[0]), []byte(ng[1]))
			if want >= 0 {
				found++
			}
			if got != want {
				t.Fatalf("%q %s %s: got %d, regexp %d", b, ng[0], ng[1], got, want)
			}
		}
	}
	if found < 500 {
		t.Fatalf("only %d windows with a header: the draw tests too little", found)
	}
	t.Logf("%d windows with a header", found)
}
