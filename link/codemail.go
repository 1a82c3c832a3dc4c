package link

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/sendguard/sendguard/notify/compose"
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
	// Rand draws the Message-ID and boundary; nil means crypto/rand.
	// Only tests set it.
	Rand io.Reader
}

// Bytes renders the mail through the one writer of sendguard's mail
// (notify/compose): multipart/alternative with UTF-8 quoted-printable
// text and HTML parts. Headers carry only validated addresses and
// catalog text, so nothing from the package can add a header; the HTML
// part escapes everything.
func (m CodeMail) Bytes() ([]byte, error) {
	if _, err := headerAddress(m.To); err != nil {
		return nil, fmt.Errorf("link: code mail to: %w", err)
	}
	var err error
	if m.Code, err = ParseCode(m.Code); err != nil {
		return nil, fmt.Errorf("link: code mail: %w", err)
	}
	w, err := compose.New(compose.Options{From: m.From, Location: m.Location, Rand: m.Rand})
	if err != nil {
		return nil, fmt.Errorf("link: code mail: %w", err)
	}
	c, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	order := orderLangs(m.Lang)
	var subj []string
	for _, l := range order {
		subj = append(subj, c.T(l, "code.subject"))
	}
	text, html := m.render(c, order)
	msg, err := w.Write(compose.Mail{To: []string{m.To}, Subject: compose.Subject(subj, ""), Text: text, HTML: html, Date: m.Date})
	if err != nil {
		return nil, fmt.Errorf("link: code mail: %w", err)
	}
	return msg, nil
}

// headerAddress accepts exactly one address with a domain and without
// line breaks.
func headerAddress(s string) (*mail.Address, error) { return compose.ParseAddress(s) }

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
