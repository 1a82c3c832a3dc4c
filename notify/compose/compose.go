// Package compose writes every mail sendguard itself sends: hold and
// outcome notices, the password notice, the download-link notices and the
// one-time code mail. (DSNs keep their RFC 3464 multipart/report frame in
// gateway/dsn and share only the Subject encoding.)
//
// A mail is RFC 5322 with CRLF line ends: From the configured notice
// address, an RFC 2047 Subject, a Date in the configured time zone, a
// fresh Message-ID, Auto-Submitted: auto-generated (RFC 3834), and either
// multipart/alternative (UTF-8 text/plain and text/html) or one UTF-8
// text/plain part, quoted-printable.
//
// Invariants:
//   - Untrusted text never creates a header: addresses are parsed and
//     refused with a line break, the Subject's control characters become
//     spaces and it is always encoded.
//   - The package imports nothing of sendguard: callers hand it rendered
//     text, never a store or a policy value.
package compose

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrInvalid reports an address or option that cannot be written.
var ErrInvalid = errors.New("compose: invalid mail")

// Options configure a Writer.
type Options struct {
	// From is the notice address, e.g. "sendguard <sendguard@example.com>".
	From string
	// Location is the zone of the Date header (config time_zone); nil
	// means UTC.
	Location *time.Location
	// Now is the clock for the Date header; nil means time.Now.
	Now func() time.Time
	// Rand supplies Message-ID and boundary randomness; nil means
	// crypto/rand.
	Rand io.Reader
}

// Writer writes mails. It is safe for concurrent use.
type Writer struct {
	from   *mail.Address
	domain string
	loc    *time.Location
	now    func() time.Time
	rand   io.Reader
}

// New checks the From address.
func New(o Options) (*Writer, error) {
	from, err := ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("%w: from: %w", ErrInvalid, err)
	}
	w := &Writer{from: from, domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		loc: o.Location, now: o.Now, rand: o.Rand}
	if w.loc == nil {
		w.loc = time.UTC
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.rand == nil {
		w.rand = rand.Reader
	}
	return w, nil
}

// Location is the zone the Writer dates mails in; renderers write times
// a reader sees in the same zone.
func (w *Writer) Location() *time.Location { return w.loc }

// Mail is one mail to write. Text and HTML use "\n" or "\r\n" line ends.
type Mail struct {
	To      []string
	Subject string
	// Lang is the Content-Language of a one-language mail; "" for a
	// bilingual one.
	Lang string
	Text string
	// HTML, when not empty, makes the mail multipart/alternative.
	HTML string
	// Date is the Date header; zero means the Writer's clock.
	Date time.Time
}

// Write renders m as a complete message with CRLF line ends.
func (w *Writer) Write(m Mail) ([]byte, error) {
	if len(m.To) == 0 {
		return nil, fmt.Errorf("%w: no recipient", ErrInvalid)
	}
	addrs := make([]string, 0, len(m.To))
	for _, s := range m.To {
		a, err := ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("%w: to: %w", ErrInvalid, err)
		}
		addrs = append(addrs, a.String())
	}
	var rnd [24]byte
	if _, err := io.ReadFull(w.rand, rnd[:]); err != nil {
		return nil, fmt.Errorf("read randomness: %w", err)
	}
	date := m.Date
	if date.IsZero() {
		date = w.now()
	}
	var out bytes.Buffer
	field := func(name, value string) { out.WriteString(name + ": " + value + "\r\n") }
	field("From", w.from.String())
	field("To", strings.Join(addrs, ",\r\n "))
	field("Subject", EncodeWords(OneLine(m.Subject)))
	field("Date", date.In(w.loc).Format(time.RFC1123Z))
	field("Message-ID", "<"+hex.EncodeToString(rnd[:16])+"@"+w.domain+">")
	field("MIME-Version", "1.0")
	field("Auto-Submitted", "auto-generated")
	field("X-Auto-Response-Suppress", "All")
	if m.Lang != "" {
		field("Content-Language", OneLine(m.Lang))
	}
	if m.HTML == "" {
		field("Content-Type", "text/plain; charset=UTF-8")
		field("Content-Transfer-Encoding", "quoted-printable")
		out.WriteString("\r\n")
		if err := writeQP(&out, m.Text); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	mw := multipart.NewWriter(&out)
	boundary := "sg-" + hex.EncodeToString(rnd[16:])
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, fmt.Errorf("set boundary: %w", err)
	}
	field("Content-Type", "multipart/alternative; boundary=\""+boundary+"\"")
	out.WriteString("\r\n")
	for _, p := range []struct{ ctype, body string }{
		{"text/plain; charset=UTF-8", m.Text}, {"text/html; charset=UTF-8", m.HTML},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("create part: %w", err)
		}
		if err := writeQP(pw, p.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("close multipart: %w", err)
	}
	return out.Bytes(), nil
}

// writeQP writes s quoted-printable with CRLF hard line breaks.
func writeQP(w io.Writer, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, CRLF(s)); err != nil {
		return fmt.Errorf("write part: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("close part: %w", err)
	}
	return nil
}

// CRLF turns every line end of s (LF, CRLF or bare CR) into CRLF.
func CRLF(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// ParseAddress accepts exactly one address with a domain and without line
// breaks; its display name is reduced to one line.
func ParseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break in address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("parse address: %w", err)
	}
	if !strings.Contains(a.Address, "@") {
		return nil, errors.New("address without domain")
	}
	a.Name = OneLine(a.Name)
	return a, nil
}

// OneLine replaces control characters (CR, LF, tabs, NUL, ...) with spaces
// so that untrusted text cannot break a header line or a text layout.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// maxWordBytes keeps an encoded word within RFC 2047's 75 characters:
// "=?UTF-8?B?" + base64(45 bytes) = 60 + "?=" is 72.
const maxWordBytes = 45

// EncodeWords writes s as RFC 2047 B-encoded words, one per folded line,
// splitting only between runes. It always encodes, so no text of s can
// pass as header syntax.
func EncodeWords(s string) string {
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

// Separator stands between the languages of a bilingual text part.
const Separator = "\n----------------------------------------\n\n"

// Subject is the subject of a notice: "[sendguard] " and the per-language
// titles joined by " / ", then ": topic" when a topic (the held mail's
// subject) is given.
func Subject(titles []string, topic string) string {
	s := "[sendguard] " + strings.Join(titles, " / ")
	if topic != "" {
		s += ": " + topic
	}
	return s
}
