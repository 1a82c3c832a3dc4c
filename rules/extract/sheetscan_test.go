package extract

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func sheetTokens(t *testing.T, xml string, window int) []string {
	t.Helper()
	s := &sheetScanner{r: iotest.OneByteReader(strings.NewReader(xml)), buf: make([]byte, window)}
	if window >= 1<<10 {
		s.r = strings.NewReader(xml)
	}
	var out []string
	for {
		kind, name, attrs := s.next()
		if kind == 0 {
			if s.err != nil {
				out = append(out, "error: "+s.err.Error())
			}
			return out
		}
		out = append(out, fmt.Sprintf("%d|%s|%s", kind, name, bytes.TrimSpace(attrs)))
	}
}

// TestSheetScannerWindows: every window size, down to a few bytes with
// one-byte reads, yields the same tokens, with comments, CDATA, quoted
// '>' and processing instructions where real workbooks put them.
func TestSheetScannerWindows(t *testing.T) {
	xml := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><!-- it's a "comment" with > inside -->` +
		`<x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>山田 &amp; 佐藤 &#x6771;</x:t></x:is></x:c>` +
		`<x:c r="B1" t="str" x:note='a > b "q"'><x:v><![CDATA[<raw> & "text"]]></x:v></x:c><x:c r="C1"/></x:row></x:sheetData></x:worksheet>`
	want := sheetTokens(t, xml, sheetWindow)
	if len(want) == 0 || strings.HasPrefix(want[len(want)-1], "error") {
		t.Fatalf("tokens: %q", want)
	}
	for _, w := range []string{"2|c|r=\"B1\" t=\"str\" x:note='a > b \"q\"'", "5|<raw> & \"text\"|", "4|c|r=\"C1\"", "1|山田 &amp; 佐藤 &#x6771;|"} {
		found := false
		for _, g := range want {
			found = found || g == w
		}
		if !found {
			t.Errorf("missing token %q in %q", w, want)
		}
	}
	for _, c := range want {
		if strings.Contains(c, "comment") || strings.Contains(c, "xml version") {
			t.Errorf("comment or declaration returned: %q", c)
		}
	}
	for window := 1; window <= 48; window++ {
		got := sheetTokens(t, xml, window)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("window %d:\n%q\nwant\n%q", window, got, want)
		}
	}
	if got := sheetTokens(t, `<row><c r="A1"><v>1</v`, 64); !strings.HasPrefix(got[len(got)-1], "error") {
		t.Errorf("truncated tag not reported: %q", got)
	}
}

// TestXLSXSharedStringsPhonetic: shared strings with furigana runs (rPh),
// rich text runs, entities and CDATA, referenced by index, come out once
// and in column order.
func TestXLSXSharedStringsPhonetic(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	add("[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`)
	add("xl/workbook.xml", `<workbook xmlns:r="r"><sheets><sheet name="名簿" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	add("xl/_rels/workbook.xml.rels", `<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`)
	add("xl/sharedStrings.xml", `<?xml version="1.0"?><sst count="3"><si><t>山田 太郎</t><rPh sb="0" eb="2"><t>ヤマダ</t></rPh></si>`+
		`<si><r><t>A&amp;B </t></r><r><t><![CDATA[<株>]]></t></r></si><si/></sst>`)
	add("xl/worksheets/sheet1.xml", `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>`+
		`<row r="2"><c r="B2" t="s"><v>2</v></c></row><row r="3"><c r="A3"><v>42</v></c></row></sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, parts := walkBytes(t, buildMail(attachPart("名簿.xlsx", "application/octet-stream", b.Bytes())), DefaultLimits())
	p := part(t, parts, "attachment:名簿.xlsx", 0)
	if want := "山田 太郎\t\tA&B <株>\n42\n"; string(p.Text) != want {
		t.Errorf("text %q, want %q", p.Text, want)
	}
}

// FuzzSheetScanner: any input ends (no hang, no panic) and yields the same
// tokens through a tiny window as through the full one.
func FuzzSheetScanner(f *testing.F) {
	f.Add(`<row><c r="A1" t="s"><v>0</v></c><!-- x > "y' --><![CDATA[a]]>`, uint8(3))
	f.Add(`<c a='>' b=">">t&amp;</c>`, uint8(1))
	f.Fuzz(func(t *testing.T, xml string, w uint8) {
		want := sheetTokens(t, xml, sheetWindow)
		got := sheetTokens(t, xml, int(w%32)+1)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("window %d:\n%q\nwant\n%q", w%32+1, got, want)
		}
	})
}
