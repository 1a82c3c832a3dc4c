package link

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/sendguard/sendguard/templates"
)

// CodeMail is the mail that carries a one-time code to a recipient.
type CodeMail struct {
	From, To string
	// Lang puts that language first; the other follows.
	Lang string
	Code string
	// Sender and Subject describe the package, so the recipient knows
	// which files the code is for.
	Sender, Subject string
	Expires         time.Time // the code's expiry
	Location        *time.Location
	Date            time.Time
}

// Bytes renders the mail: RFC 5322 with CRLF line ends, multipart/
// alternative with UTF-8 quoted-printable text and HTML parts. Headers
// carry only validated addresses and fixed text, so nothing from the
// package can add a header; the HTML part escapes everything.
func (m CodeMail) Bytes() ([]byte, error) {
	from, err := headerAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("link: code mail from: %w", err)
	}
	to, err := headerAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("link: code mail to: %w", err)
	}
	if m.Code, err = ParseCode(m.Code); err != nil {
		return nil, fmt.Errorf("link: code mail: %w", err)
	}
	c, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	var rnd [24]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("link: code mail: %w", err)
	}
	boundary := "sg-" + hex.EncodeToString(rnd[:12])
	_, domain, _ := strings.Cut(from.Address, "@")
	if domain == "" {
		domain = "sendguard.invalid"
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	order := orderLangs(m.Lang)
	var subj []string
	for _, l := range order {
		subj = append(subj, c.T(l, "code.subject"))
	}

	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	hdr("To", to.String())
	hdr("Subject", mime.BEncoding.Encode("utf-8", strings.Join(subj, " / ")))
	hdr("Date", date.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(rnd[12:])+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Auto-Submitted", "auto-generated")
	hdr("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")

	text, html := m.render(c, order)
	for _, p := range []struct{ ctype, body string }{{"text/plain", text}, {"text/html", html}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, p.ctype)
		qp := quotedprintable.NewWriter(&b)
		if _, err := qp.Write([]byte(strings.ReplaceAll(p.body, "\n", "\r\n"))); err != nil {
			return nil, fmt.Errorf("link: code mail body: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("link: code mail body: %w", err)
		}
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// headerAddress accepts exactly one address without line breaks.
func headerAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("address contains a line break")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("parse address: %w", err)
	}
	return a, nil
}

var codeHTML = template.Must(template.New("code").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:sans-serif;line-height:1.6">
{{range .Parts}}<div lang="{{.Lang}}">
<p>{{.Lead}}</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:4px;font-family:monospace">{{$.Code}}</p>
<p>{{.SubjectLine}}<br>{{.Valid}}</p>
<p style="color:#52606d">{{.Ignore}}</p>
</div>
{{end}}</body></html>
`))

type codePart struct {
	Lang, Lead, SubjectLine, Valid, Ignore string
}

func (m CodeMail) render(c catalog, order []string) (text, html string) {
	sender := templates.OneLine(cleanText(m.Sender, 320))
	subject := templates.OneLine(cleanText(m.Subject, maxSubjectRunes))
	code := m.Code[:CodeDigits/2] + " " + m.Code[CodeDigits/2:]
	var parts []codePart
	var tb strings.Builder
	for i, l := range order {
		p := codePart{
			Lang:        l,
			Lead:        c.T(l, "code.lead", sender),
			SubjectLine: c.T(l, "code.subject_line", subject),
			Valid:       c.T(l, "code.valid", templates.FormatTime(l, m.Expires, m.Location)),
			Ignore:      c.T(l, "code.ignore"),
		}
		parts = append(parts, p)
		if i > 0 {
			tb.WriteString("\n----\n\n")
		}
		fmt.Fprintf(&tb, "%s\n\n    %s\n\n%s\n%s\n\n%s\n", p.Lead, code, p.SubjectLine, p.Valid, p.Ignore)
	}
	var hb bytes.Buffer
	_ = codeHTML.Execute(&hb, map[string]any{"Title": c.T(order[0], "code.subject"), "Code": code, "Parts": parts})
	return tb.String(), hb.String()
}
