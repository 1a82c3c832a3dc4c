package extract

import (
	"bytes"
	"strings"
	"testing"
)

// fastPartSeeds are parts fastPart must read as encoding/xml does, or
// refuse: Office's own shapes and the places the two could part.
var fastPartSeeds = []string{
	`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n" +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		`<w:p><w:r><w:t xml:space="preserve">御見積書 </w:t></w:r><w:r><w:tab/><w:t>A&amp;B &lt;株&gt;</w:t></w:r></w:p>` +
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>一</w:t><w:br/><w:t>二</w:t></w:r></w:p></w:tc><w:tc/></w:tr></w:tbl>` +
		`<w:p><w:del><w:r><w:delText>消した</w:delText></w:r></w:del></w:p></w:body></w:document>`,
	`<a:p><a:r><a:t>スライド</a:t></a:r></a:p><a:p/>`,
	`<t>a` + "\r\n" + `b</t>`,
	`<t>a&#x41;b</t>`,
	`<t>a&nbsp;b</t>`,
	`<t>a]]>b</t>`,
	`<x>]]></x><t>z</t>`,
	`<t><![CDATA[x]]></t>`,
	`<t>a<!-- c --></t>`,
	`<?xml version="1.0" encoding="Shift_JIS"?><t>x</t>`,
	`<?xml version="1.1"?><t>x</t>`,
	`<?mso-application progid="Word.Document"?><t>x</t>`,
	`<t a=1>x</t>`,
	`<t a="1"b='2'>x</t>`,
	`<t a="<">x</t>`,
	`<t a="&amp;">x</t>`,
	`<t a="&bad;">x</t>`,
	`<w:t:x>y</w:t:x>`,
	`<:t>y</:t>`,
	`<t:>y</t:>`,
	`<1t>y</1t>`,
	`<t >x</t >`,
	`<t>x</t x>`,
	`<t/ >`,
	`<t>x` + "\x01" + `</t>`,
	`<t>x` + "\xef\xbf\xbe" + `</t>`,
	`<t>x` + "\xff" + `</t>`,
	"\xef\xbb\xbf<t>bom</t>",
	`<t>unterminated`,
	`<t>x</t`,
	`<t>x</t><`,
	`<ｔ>wide</ｔ>`,
	`<t>a</t>tail &amp; more`,
	`<w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p><w:p/></w:tc></w:tr>`,
}

// fastAndDecoder returns fastPart's text (ok false when it refuses) and
// encoding/xml's text and error for the same part.
func fastAndDecoder(data []byte) (fast []byte, ok bool, slow []byte, err error) {
	fp := &fastPart{data: data}
	if ok = fp.parse(); ok {
		tb := &textBuf{max: 1 << 30}
		fp.replay(tb)
		fast = tb.bytes()
	}
	tb := &textBuf{max: 1 << 30}
	err = xmlDecodeText(bytes.NewReader(data), tb)
	return fast, ok, tb.bytes(), err
}

func TestFastPartMatchesDecoder(t *testing.T) {
	accepted := 0
	for _, s := range fastPartSeeds {
		fast, ok, slow, err := fastAndDecoder([]byte(s))
		if !ok {
			continue
		}
		accepted++
		if err != nil {
			t.Errorf("%q: accepted, but encoding/xml fails: %v", s, err)
		} else if !bytes.Equal(fast, slow) {
			t.Errorf("%q: text %q, encoding/xml %q", s, fast, slow)
		}
	}
	// Office's own parts take the fast path (else it measures nothing).
	for _, s := range fastPartSeeds[:2] {
		if _, ok, _, _ := fastAndDecoder([]byte(s)); !ok {
			t.Errorf("%q refused", s)
		}
	}
	t.Logf("%d of %d seeds accepted", accepted, len(fastPartSeeds))
}

// A part larger than fastPartMax, or with a refused construct, reads the
// same through WalkStream as any part.
func TestFastPartLargeDocx(t *testing.T) {
	var d strings.Builder
	d.WriteString(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="w"><w:body>`)
	for i := 0; d.Len() < fastPartMax+10_000; i++ {
		d.WriteString(`<w:p><w:r><w:t>段落 paragraph</w:t></w:r></w:p>`)
	}
	d.WriteString(`</w:body></w:document>`)
	for _, body := range []string{d.String(), strings.Replace(d.String(), "<w:body>", "<w:body><!-- c -->", 1)} {
		fast, ok, slow, err := fastAndDecoder([]byte(body))
		if err != nil || ok && !bytes.Equal(fast, slow) {
			t.Fatalf("ok %v err %v", ok, err)
		}
	}
}

func FuzzFastPart(f *testing.F) {
	for _, s := range fastPartSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok, slow, err := fastAndDecoder(data)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("accepted, but encoding/xml fails: %v", err)
		}
		if !bytes.Equal(fast, slow) {
			t.Fatalf("text %q, encoding/xml %q", fast, slow)
		}
	})
}
