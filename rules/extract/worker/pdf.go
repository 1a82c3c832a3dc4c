package worker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dslipak/pdf"
)

// PDF runs in the worker: every page's text, after checking that the
// streams the text comes from (page contents, fonts' ToUnicode maps) do not
// inflate beyond the ratio and size limits, as zip entries are checked.
func PDF(data []byte, b Budget) Answer {
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) {
			return Answer{Status: StatusEncrypted}
		}
		return Answer{Status: StatusError, Payload: []byte(shortErr(err))}
	}
	g := &streamGuard{b: b, fileSize: int64(len(data))}
	var text strings.Builder
	n := r.NumPage()
	for i := 1; i <= n; i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		if reason := g.page(p); reason != "" {
			return Answer{Status: StatusLimit, Inflated: g.inflated, Payload: []byte(reason)}
		}
		s, err := p.GetPlainText(nil)
		if err != nil {
			return Answer{Status: StatusError, Inflated: g.inflated, Payload: []byte(shortErr(err))}
		}
		text.WriteString(s)
		text.WriteByte('\n')
		if int64(text.Len()) > b.MaxText {
			t, _ := CapText([]byte(text.String()), b.MaxText)
			return Answer{Status: StatusText, Truncated: true, Inflated: g.inflated, Payload: t}
		}
	}
	return Answer{Status: StatusText, Inflated: g.inflated, Payload: []byte(text.String())}
}

// streamGuard inflates a page's streams once, counting, before the library
// reads them without a limit.
type streamGuard struct {
	b        Budget
	fileSize int64
	inflated int64
}

func (g *streamGuard) page(p pdf.Page) string {
	if reason := g.streams(p.V.Key("Contents")); reason != "" {
		return reason
	}
	fonts := p.Resources().Key("Font")
	for _, name := range fonts.Keys() {
		if reason := g.streams(fonts.Key(name).Key("ToUnicode")); reason != "" {
			return reason
		}
	}
	return ""
}

// streams checks a stream or an array of streams.
func (g *streamGuard) streams(v pdf.Value) string {
	switch v.Kind() {
	case pdf.Stream:
		return g.stream(v)
	case pdf.Array:
		for i := 0; i < v.Len() && i < 10000; i++ {
			if reason := g.stream(v.Index(i)); reason != "" {
				return reason
			}
		}
	}
	return ""
}

func (g *streamGuard) stream(v pdf.Value) (reason string) {
	if v.Kind() != pdf.Stream {
		return ""
	}
	compressed := min(max(v.Key("Length").Int64(), 0), g.fileSize)
	limit := compressed*g.b.Ratio + 64<<10
	defer func() {
		// an unknown filter panics in the library: the text reader
		// reports it as an error on its own
		if recover() != nil {
			reason = ""
		}
	}()
	rc := v.Reader()
	defer rc.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(rc, min(limit, g.b.Inflated-g.inflated)+1))
	g.inflated += n
	switch {
	case n > limit:
		return fmt.Sprintf("PDF bomb: a stream inflates beyond %d:1", g.b.Ratio)
	case g.inflated > g.b.Inflated:
		return fmt.Sprintf("inflated size over %d bytes", g.b.Inflated)
	}
	return ""
}
