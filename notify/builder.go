package notify

import (
	"bytes"
	"crypto/rand"
	"fmt"
	htmltemplate "html/template"
	"io"
	"net/mail"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/templates"
)

// Options configure a Builder.
type Options struct {
	// From is the notice address, e.g. "sendguard <sendguard@example.com>".
	From string
	// Location is the time zone deadlines are written in; nil means UTC.
	Location *time.Location
	// Now is the clock for the Date header; nil means time.Now.
	Now func() time.Time
	// Rand supplies Message-ID and boundary randomness; nil means
	// crypto/rand.
	Rand io.Reader
	// DefaultLanguage leads a bilingual notice; empty means
	// templates.DefaultLanguage.
	DefaultLanguage string
}

// Builder renders notices. It is safe for concurrent use.
type Builder struct {
	from   *mail.Address
	domain string
	loc    *time.Location
	now    func() time.Time
	rand   io.Reader
	first  string
	cat    *templates.Catalog
	text   *texttemplate.Template
	html   *htmltemplate.Template
}

// NewBuilder parses the embedded templates and checks the From address.
func NewBuilder(o Options) (*Builder, error) {
	from, err := parseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("%w: from: %w", ErrInvalid, err)
	}
	cat, err := templates.LoadCatalog()
	if err != nil {
		return nil, err
	}
	b := &Builder{
		from: from, domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		loc: o.Location, now: o.Now, rand: o.Rand, cat: cat, first: o.DefaultLanguage,
	}
	if b.loc == nil {
		b.loc = time.UTC
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.rand == nil {
		b.rand = rand.Reader
	}
	b.text, err = texttemplate.New("").Funcs(texttemplate.FuncMap(funcs)).ParseFS(templates.FS, "mail/*.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse text templates: %w", err)
	}
	b.html, err = htmltemplate.New("").Funcs(htmltemplate.FuncMap(funcs)).ParseFS(templates.FS, "mail/*.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse html templates: %w", err)
	}
	return b, nil
}

var funcs = map[string]any{
	"one":  templates.OneLine,
	"size": templates.FormatSize,
}

// Build renders n as a complete message with CRLF line ends.
func (b *Builder) Build(n Notice) ([]byte, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	to := make([]*mail.Address, 0, len(n.To))
	for _, s := range n.To {
		a, err := parseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("%w: to: %w", ErrInvalid, err)
		}
		to = append(to, a)
	}
	langs := templates.Ordered(b.first)
	if n.Lang != "" {
		langs = []string{n.Lang}
	}
	summary := templates.NewSummary(n.Hold, n.Report)
	deadline := n.Deadline
	if deadline.IsZero() {
		deadline = n.Hold.Deadline
	}
	if !n.Kind.detailed() {
		deadline = time.Time{} // an outcome notice has no deadline left
	}
	kind := n.textKind()
	reason := n.Reason
	if r := n.Hold.DecidedBy.Role; r == string(hold.RoleSender) || r == hold.System.Role {
		// The sender's own click and the timers record machine text
		// ("confirmed by sender"), not a word to the sender.
		reason = ""
	}
	var text bytes.Buffer
	var bodies []htmltemplate.HTML
	var subjects []string
	for i, lang := range langs {
		d := &data{
			Lang: lang, Kind: kind, S: summary, Link: n.Link, Reason: reason,
			Detailed: n.Kind.detailed(), Deadline: templates.FormatTime(lang, deadline, b.loc),
			Approvers: templates.OneLine(strings.Join(n.Hold.Approvers, ", ")), cat: b.cat,
		}
		if !n.Kind.needsLink() {
			d.Link = "" // review and outcome notices offer no action
		}
		if i > 0 {
			text.WriteString("\n----------------------------------------\n\n")
		}
		if err := b.text.ExecuteTemplate(&text, "text", d); err != nil {
			return nil, fmt.Errorf("render text %s: %w", lang, err)
		}
		var h bytes.Buffer
		if err := b.html.ExecuteTemplate(&h, "html-body", d); err != nil {
			return nil, fmt.Errorf("render html %s: %w", lang, err)
		}
		// The html-body template escaped every value it wrote.
		bodies = append(bodies, htmltemplate.HTML(h.String()))
		subjects = append(subjects, b.cat.T(lang, "mail."+string(kind)+".subject"))
	}
	title := "[sendguard] " + strings.Join(subjects, " / ") + ": " + summary.Subject
	var html bytes.Buffer
	if err := b.html.ExecuteTemplate(&html, "html-doc", map[string]any{"Title": title, "Bodies": bodies}); err != nil {
		return nil, fmt.Errorf("render html document: %w", err)
	}
	h := header{
		from: b.from, to: to, subject: title, date: b.now(),
		lang: n.Lang, domain: b.domain,
	}
	return b.writeMessage(h, text.Bytes(), html.Bytes())
}

func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("line break in address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("parse address: %w", err)
	}
	if !strings.Contains(a.Address, "@") {
		return nil, fmt.Errorf("address without domain")
	}
	a.Name = templates.OneLine(a.Name)
	return a, nil
}
