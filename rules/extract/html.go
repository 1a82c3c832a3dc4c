package extract

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// htmlToText renders HTML as plain text for the detectors: script, style
// and other non-content elements are dropped, entities decoded, block
// elements end lines, table cells are separated by tabs so that HTML tables
// read as rows, and hidden text is kept (a sender cannot hide data in it).
func htmlToText(src []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(src))
	var b bytes.Buffer
	b.Grow(len(src) / 2)
	skip := 0 // depth inside elements whose text is not content
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return bytes.TrimSpace(b.Bytes())
		case html.TextToken:
			if skip == 0 {
				writeCollapsed(&b, z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			switch tag {
			case "script", "style", "noscript", "template", "svg", "object":
				if tt == html.StartTagToken {
					skip++
				}
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr", "dt", "dd", "section", "article", "header", "footer":
				newline(&b)
			case "td", "th":
				if n := b.Len(); n > 0 && b.Bytes()[n-1] != '\n' {
					b.WriteByte('\t')
				}
			case "img":
				// alt text is content a reader sees in place of the image
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "alt" && len(v) > 0 {
						writeCollapsed(&b, v)
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "svg", "object":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "title", "dt", "dd":
				newline(&b)
			}
		}
	}
}

// writeCollapsed appends text with runs of white space collapsed to one
// space, as a browser renders it.
func writeCollapsed(b *bytes.Buffer, t []byte) {
	s := strings.Fields(string(t))
	if len(s) == 0 {
		if len(t) > 0 && b.Len() > 0 && !endsWithSpace(b) {
			b.WriteByte(' ')
		}
		return
	}
	if isSpace(t[0]) && b.Len() > 0 && !endsWithSpace(b) {
		b.WriteByte(' ')
	}
	b.WriteString(strings.Join(s, " "))
	if isSpace(t[len(t)-1]) {
		b.WriteByte(' ')
	}
}

func newline(b *bytes.Buffer) {
	// drop trailing spaces, then end the line once
	for b.Len() > 0 && (b.Bytes()[b.Len()-1] == ' ') {
		b.Truncate(b.Len() - 1)
	}
	if b.Len() > 0 && b.Bytes()[b.Len()-1] != '\n' {
		b.WriteByte('\n')
	}
}

func endsWithSpace(b *bytes.Buffer) bool {
	c := b.Bytes()[b.Len()-1]
	return c == ' ' || c == '\n' || c == '\t'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
