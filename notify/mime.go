package notify

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sendguard/sendguard/templates"
)

// header holds the values of a notice's header fields.
type header struct {
	from    *mail.Address
	to      []*mail.Address
	subject string
	date    time.Time
	lang    string
	domain  string
}

func (b *Builder) writeMessage(h header, text, html []byte) ([]byte, error) {
	var rnd [24]byte
	if _, err := io.ReadFull(b.rand, rnd[:]); err != nil {
		return nil, fmt.Errorf("read randomness: %w", err)
	}
	var out bytes.Buffer
	mw := multipart.NewWriter(&out)
	boundary := "sg-" + hex.EncodeToString(rnd[16:])
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, fmt.Errorf("set boundary: %w", err)
	}
	addrs := make([]string, len(h.to))
	for i, a := range h.to {
		addrs[i] = a.String()
	}
	field := func(name, value string) {
		out.WriteString(name + ": " + value + "\r\n")
	}
	field("From", h.from.String())
	field("To", strings.Join(addrs, ",\r\n "))
	field("Subject", encodeWords(templates.OneLine(h.subject)))
	field("Date", h.date.Format(time.RFC1123Z))
	field("Message-ID", "<"+hex.EncodeToString(rnd[:16])+"@"+h.domain+">")
	field("MIME-Version", "1.0")
	field("Auto-Submitted", "auto-generated")
	field("X-Auto-Response-Suppress", "All")
	if h.lang != "" {
		field("Content-Language", h.lang)
	}
	field("Content-Type", "multipart/alternative; boundary=\""+boundary+"\"")
	out.WriteString("\r\n")
	for _, p := range []struct {
		ctype string
		body  []byte
	}{{"text/plain; charset=UTF-8", text}, {"text/html; charset=UTF-8", html}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("create part: %w", err)
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write(p.body); err != nil {
			return nil, fmt.Errorf("write part: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("close part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("close multipart: %w", err)
	}
	return out.Bytes(), nil
}

// maxWordBytes keeps an encoded word within RFC 2047's 75 characters:
// "=?UTF-8?B?" + base64(45 bytes) = 60 + "?=" is 72.
const maxWordBytes = 45

// encodeWords writes s as RFC 2047 B-encoded words, one per folded line,
// splitting only between runes. It always encodes, so no text of s can
// pass as header syntax.
func encodeWords(s string) string {
	if s == "" {
		return ""
	}
	var words []string
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxWordBytes {
				break
			}
			n += size
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}
