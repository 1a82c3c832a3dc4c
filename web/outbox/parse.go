package outbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // ISO-2022-JP, Shift_JIS, ... bodies and headers
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/net/html"

	"github.com/sendguard/sendguard/templates"
)

// maxBodyText bounds the text shown of one body part.
const maxBodyText = 1 << 20

// Message is a saved mail as a reader sees it.
type Message struct {
	From, To, Cc []string
	Subject      string
	Date         time.Time
	DateText     string
	Body         []Segment
	// HTMLOnly: the mail had no text part; Body is its HTML's text.
	HTMLOnly    bool
	Attachments []Attachment
}

// Attachment is one attached file.
type Attachment struct {
	Name string
	Type string
	Size string
}

// parseHeader reads the top-level header only.
func parseHeader(br *bufio.Reader) (*Message, error) {
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	m := &Message{}
	fillHeader(m, mail.Header{Header: message.Header{Header: h}})
	return m, nil
}

func fillHeader(m *Message, mh mail.Header) {
	addrs := func(key string) []string {
		list, err := mh.AddressList(key)
		if err != nil {
			if v := mh.Get(key); v != "" {
				return []string{templates.OneLine(v)}
			}
			return nil
		}
		var out []string
		for _, a := range list {
			if a.Name != "" {
				out = append(out, templates.OneLine(a.Name)+" <"+a.Address+">")
			} else {
				out = append(out, a.Address)
			}
		}
		return out
	}
	m.From, m.To, m.Cc = addrs("From"), addrs("To"), addrs("Cc")
	if s, err := mh.Subject(); err == nil {
		m.Subject = templates.OneLine(s)
	} else {
		m.Subject = templates.OneLine(mh.Get("Subject"))
	}
	m.Date, _ = mh.Date()
}

// Parse reads a whole message: headers, the first text body (or the text
// of the first HTML body when there is none) and the attachments. A part
// it cannot read is skipped; what was read is returned with the error.
func Parse(r io.Reader) (*Message, error) {
	m := &Message{}
	mr, err := mail.CreateReader(r)
	if mr == nil {
		return m, fmt.Errorf("read message: %w", err)
	}
	fillHeader(m, mr.Header)
	var text, htmlText string
	var partErr error
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			partErr = fmt.Errorf("read part: %w", err)
			break
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			b, rerr := io.ReadAll(io.LimitReader(p.Body, maxBodyText))
			if rerr != nil && partErr == nil {
				partErr = rerr
			}
			switch {
			case ct == "text/plain" && text == "":
				text = string(b)
			case ct == "text/html" && htmlText == "":
				htmlText = htmlToText(string(b))
			case ct != "text/plain" && ct != "text/html":
				m.Attachments = append(m.Attachments, attachment(h.Header, ct, b))
			}
		case *mail.AttachmentHeader:
			ct, _, _ := h.ContentType()
			n, _ := io.Copy(io.Discard, p.Body)
			name, _ := h.Filename()
			m.Attachments = append(m.Attachments, Attachment{Name: templates.OneLine(name), Type: ct, Size: templates.FormatSize(n)})
		}
	}
	if text == "" && htmlText != "" {
		text, m.HTMLOnly = htmlText, true
	}
	m.Body = Linkify(strings.ReplaceAll(text, "\r\n", "\n"))
	return m, partErr
}

// attachment describes an inline part that is not text (an inline image).
func attachment(h message.Header, ct string, b []byte) Attachment {
	name := ""
	if _, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil {
		name = params["name"]
	}
	return Attachment{Name: templates.OneLine(name), Type: ct, Size: templates.FormatSize(int64(len(b)))}
}

// htmlToText keeps the text of an HTML body, one block per line; scripts
// and styles are dropped.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head":
				skip++
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head":
				skip = max(skip-1, 0)
			}
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		}
	}
}
