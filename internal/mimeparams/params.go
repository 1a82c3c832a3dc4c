// Package mimeparams parses MIME header parameters (Content-Type,
// Content-Disposition) the way real mail needs, for both the inspection
// (rules/extract) and the rewriting (rewrite) of messages.
//
// Unlike mime.ParseMediaType it accepts RFC 2231 continuations in any
// charset (filename*0*=ISO-2022-JP”...), RFC 2047 words inside quoted
// values (a common, non-standard practice of Japanese mailers), raw 8-bit
// bytes, malformed %-escapes, unterminated quotes and stray separators.
// Turning bytes into UTF-8 is the caller's Decoder: each package has its
// own charset table.
package mimeparams

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Decoder turns parameter bytes into UTF-8.
type Decoder interface {
	// Bytes decodes an RFC 2231 value labelled with charset cs ("" if
	// none).
	Bytes(raw []byte, cs string) string
	// Words decodes a plain value: RFC 2047 words and raw 8-bit bytes.
	Words(v string) string
}

// Parse splits a header value into its lower-cased token and parameters
// (names lower-cased, values UTF-8). An RFC 2231 form of a parameter wins
// over its plain form.
func Parse(v string, d Decoder) (token string, params map[string]string) {
	params = map[string]string{}
	parts := Split(v)
	token = strings.ToLower(strings.TrimSpace(parts[0]))
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
		val = Unquote(strings.TrimSpace(val))
		name, rest, star := strings.Cut(k, "*")
		if name == "" {
			continue
		}
		if !star {
			if _, dup := params[k]; !dup {
				params[k] = val
			}
			continue
		}
		// name*, name*N, name*N*
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
	for k, v := range params {
		if _, fromCont := cont[k]; !fromCont {
			params[k] = d.Words(v)
		}
	}
	for name, segs := range cont {
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
		var cs string
		var raw []byte
		for i, s := range segs {
			val := s.val
			if s.encoded {
				if i == 0 { // charset'language'value
					if c, rest, ok := strings.Cut(val, "'"); ok {
						if _, v2, ok := strings.Cut(rest, "'"); ok {
							cs, val = c, v2
						}
					}
				}
				if u, err := url.PathUnescape(val); err == nil {
					val = u
				} else {
					val = lenientUnescape(val)
				}
			}
			raw = append(raw, val...)
		}
		params[name] = d.Bytes(raw, cs)
	}
	return token, params
}

// Split splits on semicolons outside quotes; it always returns at least
// one element.
func Split(v string) []string {
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

// Unquote removes the quotes and backslash escapes of a quoted string; an
// unterminated quote loses only its opening mark.
func Unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		if strings.IndexByte(v, '\\') < 0 {
			return v
		}
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return strings.TrimPrefix(v, `"`)
}

// lenientUnescape decodes %XX and keeps malformed escapes literally.
func lenientUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+3 <= len(s) {
			if h, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(h))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
