package notify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sendguard/sendguard/notify/compose"
	"github.com/sendguard/sendguard/templates/i18n"
)

// signature ends every plain notice; it names the product, in no language.
const signature = "\n-- \nsendguard\n"

// PasswordNotice is the view of a password mail: the sender's copy lists
// the recipients, a recipient's copy only the zip.
type PasswordNotice struct {
	To string
	// Lang writes one language; "" writes both, the default first.
	Lang string
	// Subject is the subject of the mail the zip went out with.
	Subject  string
	ZipName  string
	Files    []string // names inside the zip, shown to the sender only
	Password string
	// Recipients are the zip's recipients, shown to the sender only.
	Recipients []string
	ToSender   bool
	Date       time.Time // zero means now; a recipient's copy may be due later
}

// Password renders a password notice as one text/plain part (mail clients
// must not turn the password into a link or a styled run).
func (b *Builder) Password(n PasswordNotice) ([]byte, error) {
	if n.Password == "" || strings.ContainsAny(n.Password, "\r\n") {
		return nil, fmt.Errorf("%w: password notice without a one-line password", ErrInvalid)
	}
	if n.Lang != "" && !i18n.Supported(n.Lang) {
		return nil, fmt.Errorf("%w: language %q", ErrInvalid, n.Lang)
	}
	subj := compose.OneLine(n.Subject)
	langs := i18n.For(n.Lang, b.first)
	var text strings.Builder
	var titles []string
	for i, l := range langs {
		if i > 0 {
			text.WriteString(compose.Separator)
		}
		t := func(key string, args ...any) string { return b.cat.T(l, "mail.password."+key, args...) }
		if n.ToSender {
			text.WriteString(t("sender_lead", subj) + "\n\n")
		} else {
			text.WriteString(t("recipient_lead", subj) + "\n\n")
		}
		text.WriteString("  " + t("file", compose.OneLine(n.ZipName)) + "\n")
		text.WriteString("  " + t("password", n.Password) + "\n")
		if n.ToSender && len(n.Files) > 0 {
			text.WriteString("  " + t("contents", compose.OneLine(strings.Join(n.Files, ", "))) + "\n")
		}
		if n.ToSender && len(n.Recipients) > 0 {
			text.WriteString("  " + t("recipients", compose.OneLine(strings.Join(n.Recipients, ", "))) + "\n")
		}
		titles = append(titles, t("subject"))
	}
	text.WriteString(signature)
	return b.write(compose.Mail{To: []string{n.To}, Subject: compose.Subject(titles, subj), Lang: n.Lang,
		Text: text.String(), Date: n.Date})
}

// TextNotice is a plain notice whose body another package rendered from
// the catalog in the same language order (the download-link notice's
// body is link.SenderNoteText).
type TextNotice struct {
	// Kind names the catalog's mail.KIND.subject key.
	Kind TextKind
	To   string
	// First leads the bilingual subject; "" means the default language.
	First string
	// Topic is the subject of the mail the notice is about.
	Topic string
	Text  string
	Date  time.Time
}

// TextKind is the kind of a TextNotice.
type TextKind string

// LinkSent tells the sender their attachments went out as download links.
const LinkSent TextKind = "link_sent"

// Text renders a TextNotice as one text/plain part.
func (b *Builder) Text(n TextNotice) ([]byte, error) {
	if n.Kind != LinkSent {
		return nil, fmt.Errorf("%w: text notice kind %q", ErrInvalid, n.Kind)
	}
	first := n.First
	if first == "" {
		first = b.first
	}
	var titles []string
	for _, l := range i18n.Ordered(first) {
		titles = append(titles, b.cat.T(l, "mail."+string(n.Kind)+".subject"))
	}
	return b.write(compose.Mail{To: []string{n.To}, Subject: compose.Subject(titles, compose.OneLine(n.Topic)),
		Text: strings.TrimRight(n.Text, "\n") + "\n" + signature, Date: n.Date})
}

func (b *Builder) write(m compose.Mail) ([]byte, error) {
	msg, err := b.w.Write(m)
	if errors.Is(err, compose.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return msg, err
}

// DefaultLanguage is the language that leads the Builder's bilingual
// mails; texts written into other mails (the note that replaces
// attachments) follow the same rule.
func (b *Builder) DefaultLanguage() string { return i18n.Ordered(b.first)[0] }
