package sent

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/sendguard/sendguard/notify/compose"
	"github.com/sendguard/sendguard/templates"
)

// DeletionMail is the deletion request (削除依頼) to one original
// recipient: it names the message the recipient received and carries the
// recipient's own confirm link, nothing about anyone else.
type DeletionMail struct {
	From, To string
	Lang     string // first language; the other follows
	Sender   string // who sent the wrong mail
	Subject  string
	Sent     time.Time
	Link     string
	Expires  time.Time
	Location *time.Location
	Rand     io.Reader // tests only
}

var delHTML = template.Must(template.New("del").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:sans-serif;line-height:1.6">
{{range .Parts}}<div lang="{{.Lang}}">
<p>{{.Lead}}</p>
<p>{{.Ask}}</p>
<p><a href="{{$.Link}}">{{$.Link}}</a><br>{{.Valid}}</p>
<p>{{.Sorry}}</p>
</div>
{{end}}</body></html>
`))

type delPart struct{ Lang, Lead, Ask, Valid, Sorry string }

// Bytes renders the mail through notify/compose.
func (m DeletionMail) Bytes(c *templates.Catalog) ([]byte, error) {
	if _, err := compose.ParseAddress(m.To); err != nil {
		return nil, fmt.Errorf("deletion request to: %w", err)
	}
	w, err := compose.New(compose.Options{From: m.From, Location: m.Location, Rand: m.Rand})
	if err != nil {
		return nil, fmt.Errorf("deletion request: %w", err)
	}
	var subj []string
	var parts []delPart
	var text strings.Builder
	for i, l := range templates.Ordered(m.Lang) {
		subj = append(subj, c.T(l, "del.subject"))
		p := delPart{Lang: l,
			Lead:  c.T(l, "del.lead", templates.OneLine(m.Sender), templates.OneLine(m.To), templates.OneLine(m.Subject)),
			Ask:   c.T(l, "del.ask"),
			Valid: c.T(l, "del.valid", c.FormatTime(l, m.Expires, m.Location)),
			Sorry: c.T(l, "del.sorry")}
		parts = append(parts, p)
		if i > 0 {
			text.WriteString("\n----------\n\n")
		}
		fmt.Fprintf(&text, "%s\n\n%s\n\n%s\n%s\n\n%s\n", p.Lead, p.Ask, m.Link, p.Valid, p.Sorry)
	}
	return writeLinkMail(w, m.To, subj, parts, text.String(), m.Link)
}

// ReceiptMail tells the sender that a mail was delivered and carries the
// link to report it as sent in error (「誤送信を報告」) within the window.
type ReceiptMail struct {
	From, To   string // To is the sender
	Lang       string
	Subject    string
	Recipients int
	Link       string
	Until      time.Time
	Location   *time.Location
	Rand       io.Reader // tests only
}

// Bytes renders the receipt through notify/compose.
func (m ReceiptMail) Bytes(c *templates.Catalog) ([]byte, error) {
	if _, err := compose.ParseAddress(m.To); err != nil {
		return nil, fmt.Errorf("receipt to: %w", err)
	}
	w, err := compose.New(compose.Options{From: m.From, Location: m.Location, Rand: m.Rand})
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	subject := templates.OneLine(m.Subject)
	var subj []string
	var parts []delPart
	var text strings.Builder
	for i, l := range templates.Ordered(m.Lang) {
		subj = append(subj, c.T(l, "rep.subject", subject))
		p := delPart{Lang: l, Lead: c.T(l, "rep.lead", templates.OneLine(m.To), subject, m.Recipients),
			Ask: c.T(l, "rep.ask"), Valid: c.T(l, "rep.valid", c.FormatTime(l, m.Until, m.Location))}
		parts = append(parts, p)
		if i > 0 {
			text.WriteString("\n----------\n\n")
		}
		fmt.Fprintf(&text, "%s\n\n%s\n\n%s\n%s\n", p.Lead, p.Ask, m.Link, p.Valid)
	}
	return writeLinkMail(w, m.To, subj, parts, text.String(), m.Link)
}

// writeLinkMail writes a one-link mail: the text part as built, the HTML
// part from delHTML with one section per language.
func writeLinkMail(w *compose.Writer, to string, subj []string, parts []delPart, text, link string) ([]byte, error) {
	var html strings.Builder
	if err := delHTML.Execute(&html, struct {
		Title string
		Parts []delPart
		Link  string
	}{subj[0], parts, link}); err != nil {
		return nil, err
	}
	return w.Write(compose.Mail{To: []string{to}, Subject: compose.Subject(subj, ""), Text: text, HTML: html.String()})
}
