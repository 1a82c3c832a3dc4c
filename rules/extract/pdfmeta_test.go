package extract

import (
	"bytes"
	"encoding/hex"
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
