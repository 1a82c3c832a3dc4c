package main

import (
	"io"
	"strings"

	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/templates"
	"github.com/sendguard/sendguard/web/outbox"
)

// previewChars is how much of a held message's text the confirm page shows.
const previewChars = 280

// bodyPreview reads the start of a held message's text from the spool and
// masks it for the confirm page; "" when there is none.
func bodyPreview(store *spool.Store, id string) string {
	f, err := store.OpenBody(id)
	if err != nil {
		return ""
	}
	defer f.Close()
	return previewOf(f)
}

// previewOf is the masked text preview of a message read from r.
func previewOf(r io.Reader) string {
	m, _ := outbox.Parse(io.LimitReader(r, 4<<20))
	if m == nil {
		return ""
	}
	var b strings.Builder
	for _, s := range m.Body {
		b.WriteString(s.Text)
		if b.Len() > 4*previewChars*4 {
			break
		}
	}
	return templates.MaskPreview(b.String(), previewChars)
}
