package link

import (
	"fmt"
	"strings"
	"time"

	"github.com/sendguard/sendguard/templates"
	"github.com/sendguard/sendguard/templates/i18n"
)

// Note describes a package for the text that replaces its attachments.
type Note struct {
	Files []File
	// ListNames lists the file names. Off by default: a name can itself be
	// confidential, and the note travels in the mail that may have gone to
	// the wrong person; the download page shows the names.
	ListNames bool
	Expires   time.Time
	Location  *time.Location // time zone of the expiry shown; nil means UTC
}

// NoteLink is one recipient's download URL.
type NoteLink struct {
	Recipient string
	URL       string
}

// mustCatalog is the shared embedded catalog; it is checked by tests, so
// a failure is a build defect.
func mustCatalog() catalog { return catalog{i18n.MustLoad()} }

// NoteText renders the short bilingual plain-text note that the rewriter
// puts in place of the attachments: lang's text first, then the other
// language. With one link it is the download URL; with several, each
// recipient's own (a recipient can use only theirs: the code goes to the
// recipient's address). Lines end in "\n"; untrusted text (file names,
// addresses) is reduced to one line.
//
// A shared body must list only recipients visible in To/Cc: a Bcc
// recipient's link names their address, so Bcc recipients need a copy of
// their own with only their link.
func NoteText(lang string, n Note, links ...NoteLink) string {
	c := mustCatalog()
	var b strings.Builder
	for i, l := range orderLangs(lang) {
		if i > 0 {
			b.WriteString("\n")
		}
		writeNote(&b, c, l, n, links)
	}
	return b.String()
}

// SenderNoteText is NoteText for the sender's copy: the recipients' note
// plus the URL of the page that shows downloads and revokes the link.
func SenderNoteText(lang string, n Note, revokeURL string) string {
	c := mustCatalog()
	var b strings.Builder
	for i, l := range orderLangs(lang) {
		if i > 0 {
			b.WriteString("\n")
		}
		writeNote(&b, c, l, n, nil)
		fmt.Fprintf(&b, "%s\n", c.T(l, "note.revoke", templates.OneLine(revokeURL)))
	}
	return b.String()
}

// orderLangs is the order of a bilingual text: lang first, the default
// language first when lang is empty, like every other notice.
func orderLangs(lang string) []string { return templates.Ordered(lang) }

func writeNote(b *strings.Builder, c catalog, l string, n Note, links []NoteLink) {
	fmt.Fprintf(b, "%s\n", c.T(l, "note.lead", len(n.Files)))
	switch len(links) {
	case 0:
	case 1:
		fmt.Fprintf(b, "%s\n", c.T(l, "note.link", templates.OneLine(links[0].URL)))
	default:
		for _, k := range links {
			fmt.Fprintf(b, "%s\n", c.T(l, "note.link_for", templates.OneLine(k.Recipient), templates.OneLine(k.URL)))
		}
	}
	fmt.Fprintf(b, "%s\n", c.T(l, "note.expires", templates.FormatTime(l, n.Expires, n.Location)))
	if len(links) > 0 {
		fmt.Fprintf(b, "%s\n", c.T(l, "note.how"))
	}
	var total int64
	for _, f := range n.Files {
		total += f.Size
	}
	fmt.Fprintf(b, "%s\n", c.T(l, "note.size", templates.FormatSize(total)))
	if n.ListNames {
		fmt.Fprintf(b, "%s\n", c.T(l, "note.files"))
		for _, f := range n.Files {
			fmt.Fprintf(b, "  - %s (%s)\n", templates.OneLine(f.Name), templates.FormatSize(f.Size))
		}
	}
}
