package extract

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// TestMalformedTypeKeepsName: a part whose Content-Type does not parse is
// text/plain, but the file name it gives still makes it a file, read by
// the file readers, not passed over as body text; without a name it stays
// body text. Either way the walk reports the malformed type.
func TestMalformedTypeKeepsName(t *testing.T) {
	csv := base64.StdEncoding.EncodeToString([]byte("氏名,電話番号\r\n山田太郎,090-1234-5678\r\n"))
	msg := func(ct string) []byte {
		return []byte("From: a@example.com\r\nTo: b@partner.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n" +
			"--b\r\nContent-Type: " + ct + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + csv + "\r\n--b--\r\n")
	}
	for _, ct := range []string{`applic ation; name="list.csv"`, `application; name="list.csv"`, `; name="list.csv"`} {
		m, parts := walkBytes(t, msg(ct), DefaultLimits())
		wantError(t, m, "malformed Content-Type")
		wantLocations(t, parts, "body", "attachment:list.csv")
		p := part(t, parts, "attachment:list.csv", 0)
		if p.Attachment == nil || p.Attachment.Name != "list.csv" {
			t.Errorf("%s: attachment %+v", ct, p.Attachment)
		}
		wantText(t, p, "090-1234-5678")
		if m.AttachmentsHashed {
			t.Errorf("%s: hashes vouched for although go-message names no file here", ct)
		}
	}
	m, parts := walkBytes(t, msg("applic ation"), DefaultLimits())
	wantError(t, m, "malformed Content-Type")
	wantLocations(t, parts, "body", "body")
	wantText(t, parts[1], "090-1234-5678") // read, as body text
}

// TestDocumentDeclaredAsText: a body part declared as text whose decoded
// bytes are a zip, a PDF or an OLE file is read as a file (its members'
// text found), not as text; text that merely starts like one is not.
func TestDocumentDeclaredAsText(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	f, _ := zw.Create("list.csv")
	f.Write([]byte("氏名,電話番号\r\n山田太郎,090-1234-5678\r\n"))
	zw.Close()
	msg := func(ct, cte, body string) []byte {
		return []byte("From: a@example.com\r\nTo: b@partner.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n" +
			"--b\r\nContent-Type: " + ct + "\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" + body + "\r\n--b--\r\n")
	}
	b64 := base64.StdEncoding.EncodeToString(zb.Bytes())
	for _, ct := range []string{"text/plain", "text/html; charset=utf-8", "application"} {
		m, parts := walkBytes(t, msg(ct, "base64", b64), DefaultLimits())
		found := false
		for _, p := range parts {
			if strings.HasPrefix(p.Location, "attachment:part-1") && strings.Contains(string(p.Text), "090-1234-5678") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: the zip's member not read as a file's; parts %v", ct, locations(parts))
		}
		if m.AttachmentsHashed {
			t.Errorf("%s: hashes vouched for although go-message names no file here", ct)
		}
	}
	// An archive the readers cannot open is a file too: unscannable, which
	// the policy holds, not text.
	_, parts := walkBytes(t, msg("text/plain", "base64", base64.StdEncoding.EncodeToString([]byte("7z\xbc\xaf\x27\x1c\x00\x04 rest of it"))), DefaultLimits())
	wantLocations(t, parts, "body", "attachment:part-1")
	if p := parts[1]; p.Unscannable == "" {
		t.Errorf("7z declared as text: not unscannable (%+v)", p.Attachment)
	}
	for _, body := range []string{"PK\r\nhello 090-1234-5678", "%PDF", ""} {
		_, parts := walkBytes(t, msg("text/plain", "7bit", body), DefaultLimits())
		wantLocations(t, parts, "body", "body")
		if body != "" {
			wantText(t, parts[1], body[:3])
		}
	}
}

func locations(parts []Part) []string {
	var l []string
	for _, p := range parts {
		l = append(l, p.Location)
	}
	return l
}
