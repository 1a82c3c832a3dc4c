package sent

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func compareHashes(t *testing.T, mail []byte) {
	t.Helper()
	got, gdate, gerr := hashAttachments(bytes.NewReader(mail))
	want, wdate, werr := refHashAttachments(bytes.NewReader(mail))
	if !reflect.DeepEqual(got, want) || gdate != wdate || fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("mail %q:\ngot  %+v %q %v\nwant %+v %q %v", mail, got, gdate, gerr, want, wdate, werr)
	}
}

// randomPart writes a random entity: nested multiparts, attachments in
// every transfer encoding and spelling, intact and corrupt base64,
// charsets known and unknown.
func randomPart(rng *rand.Rand, b *strings.Builder, depth int) {
	if depth < 3 && rng.IntN(3) == 0 {
		bd := fmt.Sprintf("b%d_%d", depth, rng.IntN(100))
		fmt.Fprintf(b, "Content-Type: multipart/mixed; boundary=%q\r\n", bd)
		if rng.IntN(8) == 0 {
			b.WriteString("Content-Transfer-Encoding: base64\r\n") // ignored for multipart
		}
		b.WriteString("\r\npreamble\r\n")
		for range rng.IntN(4) {
			b.WriteString("--" + bd + "\r\n")
			randomPart(rng, b, depth+1)
			b.WriteString("\r\n")
		}
		if rng.IntN(6) != 0 {
			b.WriteString("--" + bd + "--\r\n")
		}
		return
	}
	types := []string{"text/plain", "text/csv; charset=shift_jis", "text/plain; charset=iso-2022-jp", "text/plain; charset=x-unknown", "application/pdf", "text/plain; charset=utf-8"}
	fmt.Fprintf(b, "Content-Type: %s", types[rng.IntN(len(types))])
	if rng.IntN(3) != 0 {
		fmt.Fprintf(b, "; name=\"f%d.bin\"", rng.IntN(10))
	}
	b.WriteString("\r\n")
	if rng.IntN(2) == 0 {
		fmt.Fprintf(b, "Content-Disposition: attachment; filename=\"d%d.csv\"\r\n", rng.IntN(10))
	}
	ctes := []string{"base64", "base64", "base64", "BASE64", "Base64 ", "quoted-printable", "7bit", "", "x-uuencode"}
	cte := ctes[rng.IntN(len(ctes))]
	if cte != "" {
		b.WriteString("Content-Transfer-Encoding: " + cte + "\r\n")
	}
	b.WriteString("\r\n")
	raw := make([]byte, rng.IntN(3000))
	for i := range raw {
		raw[i] = byte(rng.UintN(256))
	}
	if !strings.Contains(strings.ToLower(cte), "base64") {
		b.WriteString(strings.ReplaceAll(base64.StdEncoding.EncodeToString(raw), "A", "\r\n=3D"))
		return
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 0 {
		n := min(len(enc), 4*(1+rng.IntN(25)))
		line := enc[:n]
		enc = enc[n:]
		switch rng.IntN(40) {
		case 0:
			line += " \t" // trailing blanks some mailers leave
		case 1:
			line = line[:len(line)/2] + "!" + line[len(line)/2:] // corrupt
		case 2:
			line = line[:len(line)-1] // a quantum cut short
		case 3:
			line += "QQ==" // padding before more data
		}
		b.WriteString(line + "\r\n")
	}
}

func randomMessage(rng *rand.Rand) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nDate: Tue, 1 Dec 2026 18:00:00 +0900\r\nMIME-Version: 1.0\r\n")
	randomPart(rng, &b, 0)
	return []byte(b.String())
}

func TestHashAttachmentsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2))
	for range 2000 {
		compareHashes(t, randomMessage(rng))
	}
	mail, _ := bigMail()
	compareHashes(t, []byte(mail))
}

// FuzzHashAttachments: any message gives the reference walk's
// attachments, hashes and error.
func FuzzHashAttachments(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/csv; name=a.csv\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nQUFB \r\nQkI=\r\n--b--\r\n"))
	rng := rand.New(rand.NewPCG(16, 3))
	for range 5 {
		f.Add(randomMessage(rng))
	}
	f.Fuzz(func(t *testing.T, mail []byte) { compareHashes(t, mail) })
}
