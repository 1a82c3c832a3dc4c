package mimeparams

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// plain decodes only UTF-8 and ISO-8859-1 labels: enough to test the
// parsing, which is what this package owns.
type plain struct{}

func (plain) Bytes(raw []byte, cs string) string {
	if strings.EqualFold(cs, "iso-8859-1") {
		r := make([]rune, len(raw))
		for i, b := range raw {
			r[i] = rune(b)
		}
		return string(r)
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}
func (plain) Words(v string) string { return strings.ToValidUTF8(v, "\uFFFD") }

func TestParse(t *testing.T) {
	cases := []struct {
		in, token string
		want      map[string]string
	}{
		{`text/plain; charset="utf-8"`, "text/plain", map[string]string{"charset": "utf-8"}},
		{`attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D.pdf`, "attachment", map[string]string{"filename": "見積.pdf"}},
		{`attachment; filename*0*=UTF-8''%E8%A6; filename*1*=%8B%E7%A9%8D; filename*2=.pdf`, "attachment", map[string]string{"filename": "見積.pdf"}},
		{`attachment; filename*1=b.txt; filename*0=a`, "attachment", map[string]string{"filename": "ab.txt"}},
		{`attachment; filename="plain.txt"; filename*=iso-8859-1''caf%E9.txt`, "attachment", map[string]string{"filename": "café.txt"}},
		{`attachment; filename*=UTF-8''bad%zz.txt`, "attachment", map[string]string{"filename": "bad%zz.txt"}},
		{`attachment; filename="semi;colon.txt"`, "attachment", map[string]string{"filename": "semi;colon.txt"}},
		{`attachment; filename="q\"uote.txt"`, "attachment", map[string]string{"filename": `q"uote.txt`}},
		{`attachment; filename="unterminated.txt`, "attachment", map[string]string{"filename": "unterminated.txt"}},
		{`Multipart/Mixed;; BOUNDARY=abc ;`, "multipart/mixed", map[string]string{"boundary": "abc"}},
		{``, "", map[string]string{}},
	}
	for _, c := range cases {
		token, params := Parse(c.in, plain{})
		if token != c.token {
			t.Errorf("%q: token %q, want %q", c.in, token, c.token)
		}
		for k, v := range c.want {
			if params[k] != v {
				t.Errorf("%q: %s = %q, want %q", c.in, k, params[k], v)
			}
		}
		if len(params) != len(c.want) {
			t.Errorf("%q: params %v, want %v", c.in, params, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`attachment; filename*0*=UTF-8''%E8%A6; filename*1*=%8B; filename="x"`)
	f.Add(`text/plain; charset="a\"b"; x*999=1`)
	f.Fuzz(func(t *testing.T, v string) {
		_, params := Parse(v, plain{})
		for k, val := range params {
			if k != strings.ToLower(k) || !utf8.ValidString(val) {
				t.Fatalf("%q: bad param %q=%q", v, k, val)
			}
		}
	})
}
