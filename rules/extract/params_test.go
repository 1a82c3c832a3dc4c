package extract

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestParseParams(t *testing.T) {
	jis := mustEncode(t, japanese.ISO2022JP, "日本語ファイル.csv")
	sjis := mustEncode(t, japanese.ShiftJIS, "顧客名簿.xlsx")
	tests := []struct {
		in, token, key, want string
	}{
		{`attachment; filename="a b.txt"`, "attachment", "filename", "a b.txt"},
		{`attachment; filename*=UTF-8''%E9%A1%A7%E5%AE%A2.csv`, "attachment", "filename", "顧客.csv"},
		{`attachment; filename*0*=ISO-2022-JP''` + pct(jis[:7]) + `; filename*1*=` + pct(jis[7:]), "attachment", "filename", "日本語ファイル.csv"},
		// continuations out of order and a plain (unencoded) piece
		{`attachment; filename*1="def.txt"; filename*0="abc"`, "attachment", "filename", "abcdef.txt"},
		{`attachment; filename*0*=Shift_JIS'ja'` + pct(sjis), "attachment", "filename", "顧客名簿.xlsx"},
		{`attachment; filename="=?ISO-2022-JP?B?GyRCJTUlcyVXJWskRxsoQg==?=.txt"`, "attachment", "filename", "サンプルで.txt"},
		{"attachment; filename=\"" + string(sjis) + "\"", "attachment", "filename", "顧客名簿.xlsx"},
		{`attachment; filename="生の.txt"`, "attachment", "filename", "生の.txt"},
		{`Text/Plain; charset="ISO-2022-JP"; format=flowed`, "text/plain", "charset", "ISO-2022-JP"},
		{`multipart/mixed; boundary="a;b=c"`, "multipart/mixed", "boundary", "a;b=c"},
		{`attachment;; filename=x.txt;`, "attachment", "filename", "x.txt"},
		{`attachment; filename="unterminated.txt`, "attachment", "filename", "unterminated.txt"},
		{`attachment; filename*=UTF-8''bad%ZZ%41.txt`, "attachment", "filename", "bad%ZZA.txt"},
	}
	for _, tc := range tests {
		token, params := parseParams(tc.in)
		if token != tc.token || params[tc.key] != tc.want {
			t.Errorf("%q: token %q %s=%q, want %q %q", tc.in, token, tc.key, params[tc.key], tc.token, tc.want)
		}
	}
}

func pct(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return s.String()
}

func TestBase64Lenient(t *testing.T) {
	tests := []struct {
		in, want string
		bad      int
	}{
		{"aGVsbG8=", "hello", 0},
		{"aGVs\r\nbG8=\r\n", "hello", 0},
		{"aGVsbG8=d29ybGQ=", "helloworld", 0}, // concatenated encodings
		{"aGV*sbG!8=", "hello", 2},
		{"aGVsbG8", "hello", 0},     // missing padding
		{"-_-_", "\xfb\xff\xbf", 0}, // URL-safe alphabet
	}
	for _, tc := range tests {
		r := newBase64Reader(strings.NewReader(tc.in))
		got, err := io.ReadAll(iotest1(r))
		if err != nil || string(got) != tc.want || r.bad != tc.bad {
			t.Errorf("%q: %q bad %d err %v", tc.in, got, r.bad, err)
		}
	}
}

// iotest1 reads one byte at a time to exercise buffering.
func iotest1(r io.Reader) io.Reader { return &oneByte{r} }

type oneByte struct{ r io.Reader }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

func TestQuotedPrintableLenient(t *testing.T) {
	tests := []struct{ in, want string }{
		{"caf=C3=A9\r\n", "café\n"},
		{"soft=\r\nbreak\r\n", "softbreak\n"},
		{"bad =ZZ escape and =4\r\n", "bad =ZZ escape and =4\n"},
		{"trailing spaces   \r\nnext", "trailing spaces\nnext"},
		{"=e6=9d=b1=E4=BA=AC", "東京"},
	}
	for _, tc := range tests {
		got, err := io.ReadAll(newQPReader(strings.NewReader(tc.in)))
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: %q %v", tc.in, got, err)
		}
	}
	long := strings.Repeat("=41", 20000) // a line longer than the reader's buffer
	got, _ := io.ReadAll(newQPReader(strings.NewReader(long)))
	if !bytes.Equal(got, bytes.Repeat([]byte("A"), 20000)) && len(got) < 19990 {
		t.Errorf("long line: %d bytes", len(got))
	}
}

func TestTransferDecoder(t *testing.T) {
	for _, cte := range []string{"", "7bit", "8BIT", "binary", "7-bit", "8bits", "plain"} {
		if _, problem := transferDecoder(cte, strings.NewReader("x")); problem != "" {
			t.Errorf("%q: %s", cte, problem)
		}
	}
	if _, problem := transferDecoder("x-uuencode", strings.NewReader("x")); problem == "" {
		t.Error("x-uuencode not reported")
	}
	r, _ := transferDecoder(" Base64; ", strings.NewReader("aGk="))
	if b, _ := io.ReadAll(r); string(b) != "hi" {
		t.Errorf("base64 with junk label: %q", b)
	}
}

func TestHTMLToText(t *testing.T) {
	in := `<html><head><title>件名</title><style>.x{}</style><script>var a="<p>secret</p>";</script></head>
<body><p>山田&nbsp;太郎 &amp; 鈴木</p><div>電話:<b>03-1234-5678</b></div>
<table><tr><th>氏名</th><th>番号</th></tr><tr><td>田中</td><td>123456789018</td></tr></table>
<img src="x.png" alt="マイナンバーカード"><noscript>no</noscript><!-- comment 999 --></body></html>`
	got := string(htmlToText([]byte(in)))
	for _, want := range []string{"件名", "山田 太郎 & 鈴木", "電話:03-1234-5678", "氏名\t番号\n田中\t123456789018", "マイナンバーカード"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"secret", ".x{}", "comment 999", "no\n", "<"} {
		if strings.Contains(got, bad) {
			t.Errorf("has %q:\n%s", bad, got)
		}
	}
}

func TestJSONAndXMLText(t *testing.T) {
	if got := string(unescapeJSONUnicode([]byte(`{"n":"\u5c71\u7530","e":"\ud83d\ude00","raw":"\\u0041","bad":"\u12"}`))); got != `{"n":"山田","e":"😀","raw":"\\u0041","bad":"\u12"}` {
		t.Errorf("json: %s", got)
	}
	xml := append([]byte(`<?xml version="1.0" encoding="EUC-JP"?><r>`), mustEncode(t, japanese.EUCJP, "住所")...)
	if cs := xmlDeclCharset(xml); cs != "EUC-JP" {
		t.Errorf("xml declaration charset %q", cs)
	}
	if cs := xmlDeclCharset([]byte(`<r encoding="x"/>`)); cs != "" {
		t.Errorf("not a declaration: %q", cs)
	}
}
