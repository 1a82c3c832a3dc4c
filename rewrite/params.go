package rewrite

import (
	"io"
	"mime"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/japanese"
)

// parseParams splits a Content-Type or Content-Disposition value into its
// lower-cased token and parameters. Unlike mime.ParseMediaType it accepts
// RFC 2231 continuations in any charset go-message knows
// (filename*0*=ISO-2022-JP”...), RFC 2047 words inside quoted values (a
// common, non-standard practice of Japanese mailers) and raw 8-bit bytes
// (UTF-8, else read as Shift_JIS). Values are returned as UTF-8.
func parseParams(v string) (string, map[string]string) {
	params := map[string]string{}
	parts := splitParams(v)
	token := strings.ToLower(strings.TrimSpace(parts[0]))
	type seg struct {
		n       int
		encoded bool
		val     string
	}
	cont := map[string][]seg{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = unquote(strings.TrimSpace(val))
		name, rest, star := strings.Cut(k, "*")
		if name == "" {
			continue
		}
		if !star {
			if _, dup := params[k]; !dup {
				params[k] = decodeWords(val)
			}
			continue
		}
		s := seg{encoded: rest == "" || strings.HasSuffix(rest, "*"), val: val}
		if num := strings.TrimSuffix(rest, "*"); num != "" {
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 999 {
				continue
			}
			s.n = n
		}
		cont[name] = append(cont[name], s)
	}
	for name, segs := range cont {
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
		var cs string
		var raw []byte
		for i, s := range segs {
			val := s.val
			if s.encoded {
				if i == 0 {
					if c, rest, ok := strings.Cut(val, "'"); ok {
						if _, v2, ok := strings.Cut(rest, "'"); ok {
							cs, val = c, v2
						}
					}
				}
				if u, err := url.PathUnescape(val); err == nil {
					val = u
				}
			}
			raw = append(raw, val...)
		}
		params[name] = decodeCharset(raw, cs) // RFC 2231 wins over the plain form
	}
	return token, params
}

// splitParams splits on semicolons outside quotes.
func splitParams(v string) []string {
	var out []string
	var b strings.Builder
	quote, esc := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && quote:
			esc = true
		case c == '"':
			quote = !quote
		case c == ';' && !quote:
			out = append(out, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	return append(out, b.String())
}

func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return strings.TrimPrefix(v, `"`)
	}
	v = v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// wordDecoder decodes RFC 2047 words in every charset go-message knows.
func wordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: charset.Reader}
}

// decodeWords decodes RFC 2047 words and raw 8-bit bytes in a header value.
func decodeWords(v string) string {
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder().DecodeHeader(v); err == nil {
			v = d
		}
	}
	return decodeCharset([]byte(v), "")
}

// decodeCharset turns bytes labelled cs into UTF-8; unlabelled bytes that
// are not UTF-8 are read as Shift_JIS (CP932), the usual raw 8-bit case.
func decodeCharset(b []byte, cs string) string {
	if cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		if r, err := charset.Reader(cs, strings.NewReader(string(b))); err == nil {
			if d, err := io.ReadAll(r); err == nil {
				return string(d)
			}
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	if d, err := japanese.ShiftJIS.NewDecoder().Bytes(b); err == nil {
		return string(d)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
