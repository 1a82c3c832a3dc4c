package extract

import (
	"bytes"
	"fmt"
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
