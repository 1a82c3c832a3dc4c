package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/sendguard/sendguard/notify/compose"
	"github.com/sendguard/sendguard/templates"
	"github.com/sendguard/sendguard/templates/i18n"
)

// Options configure a Builder.
type Options struct {
	// From is the notice address, e.g. "sendguard <sendguard@example.com>".
	From string
	// Location is the time zone (config time_zone) of deadlines and of
	// the Date header; nil means UTC.
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
	w     *compose.Writer
	loc   *time.Location
	first string
	cat   *templates.Catalog
	text  *texttemplate.Template
	html  *htmltemplate.Template
}

// NewBuilder parses the embedded templates and checks the From address.
func NewBuilder(o Options) (*Builder, error) {
	w, err := compose.New(compose.Options{From: o.From, Location: o.Location, Now: o.Now, Rand: o.Rand})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	cat, err := templates.LoadCatalog()
	if err != nil {
		return nil, err
	}
	b := &Builder{w: w, loc: w.Location(), cat: cat, first: o.DefaultLanguage}
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
	langs := i18n.For(n.Lang, b.first)
	summary := n.Message
	deadline := n.Deadline
	if deadline.IsZero() {
		deadline = summary.Deadline
	}
	if !n.Kind.detailed() {
		deadline = time.Time{} // an outcome notice has no deadline left
	}
	kind := n.textKind()
	var text bytes.Buffer
	var bodies []htmltemplate.HTML
	var subjects []string
	for i, lang := range langs {
		d := &data{
			Lang: lang, Kind: kind, S: summary, Link: n.Link, Reason: n.Reason,
			Detailed: n.Kind.detailed(), Deadline: templates.FormatTime(lang, deadline, b.loc),
			Approvers: templates.OneLine(strings.Join(n.Approvers, ", ")), StandsInFor: templates.OneLine(n.StandsInFor), cat: b.cat,
		}
		if !n.Kind.needsLink() {
			d.Link = "" // review and outcome notices offer no action
		}
		if i > 0 {
			text.WriteString(compose.Separator)
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
	title := compose.Subject(subjects, summary.Subject)
	var html bytes.Buffer
	if err := b.html.ExecuteTemplate(&html, "html-doc", map[string]any{"Title": title, "Bodies": bodies}); err != nil {
		return nil, fmt.Errorf("render html document: %w", err)
	}
	return b.write(compose.Mail{To: n.To, Subject: title, Lang: n.Lang, Text: text.String(), HTML: html.String()})
}
