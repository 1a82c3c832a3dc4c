package rewrite

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// TestDocumentDeclaredAsText: a text part whose decoded body is a zip, a
// PDF or an OLE file goes into the zip like any attachment (the
// inspection reads it as a file), in every transfer encoding and at the
// top level; text that only starts like one stays where it is.
func TestDocumentDeclaredAsText(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	f, _ := zw.Create("list.csv")
	f.Write([]byte("氏名,電話番号\r\n山田太郎,090-1234-5678\r\n"))
	zw.Close()
	doc := zb.Bytes()
	pdf := []byte("%PDF-1.4\n% text\n")
	ole := append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 64)...)
	b64 := func(b []byte) string { return lines(base64.StdEncoding.EncodeToString(b)) }
	mixed := func(ct, cte, body string) string {
		return "From: a@example.com\r\nTo: b@partner.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n" +
			"--b\r\nContent-Type: " + ct + "\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" + body + "\r\n--b--\r\n"
	}
	for _, c := range []struct {
		name, msg string
		want      []byte
		file      string
	}{
		{"zip base64", mixed("text/plain", "base64", b64(doc)), doc, "attachment1.zip"},
		{"zip base64 in html", mixed("text/html; charset=utf-8", "base64", b64(doc)), doc, "attachment1.zip"},
		{"pdf 8bit", mixed("text/plain", "8bit", string(pdf)), pdf, "attachment1.pdf"},
		{"ole base64, malformed type", mixed("applic ation", "base64", b64(ole)), ole, "attachment1.bin"},
		{"zip quoted-printable", mixed("text/plain", "quoted-printable", "PK=03=04=14=00"), []byte("PK\x03\x04\x14\x00"), "attachment1.zip"},
		{"top level", "From: a@example.com\r\nTo: b@partner.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(doc) + "\r\n", doc, "attachment1.zip"},
	} {
		var out bytes.Buffer
		res, err := EncryptAttachments(&out, strings.NewReader(c.msg), testOptions())
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(res.Files) != 1 || res.Files[0].Name != c.file {
			t.Errorf("%s: files %+v, want %s", c.name, res.Files, c.file)
			continue
		}
		if e := zipEntries(t, out.Bytes()); len(e) != 1 || !bytes.Equal(e[0], c.want) {
			t.Errorf("%s: zip entries do not hold the document", c.name)
		}
	}
	for _, body := range []string{"PK\r\nhello", "%PDF", "UEsDBA"} {
		_, err := EncryptAttachments(&bytes.Buffer{}, strings.NewReader(mixed("text/plain", "7bit", body)), testOptions())
		if err != ErrNoAttachments {
			t.Errorf("text %q: %v, want ErrNoAttachments", body, err)
		}
	}
}

// lines breaks base64 into 76-character lines.
func lines(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}
