package extract

import (
	"fmt"
	"io"
	"mime"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseParams splits a Content-Type or Content-Disposition value into its
// lower-cased token and parameters. Unlike mime.ParseMediaType it accepts
// RFC 2231 continuations in any charset (filename*0*=ISO-2022-JP”...),
// RFC 2047 words inside quoted values, raw 8-bit bytes (Shift_JIS or
// UTF-8) and stray separators. Values are returned as UTF-8.
func parseParams(v string) (token string, params map[string]string) {
	params = map[string]string{}
	parts := splitParams(v)
	if len(parts) == 0 {
		return "", params
	}
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
		val = unquote(strings.TrimSpace(val))
		if k == "" {
			continue
		}
		name, rest, hasStar := strings.Cut(k, "*")
		if !hasStar {
			if _, dup := params[k]; !dup {
				params[k] = val
			}
			continue
		}
		// name* , name*N , name*N*
		s := seg{encoded: strings.HasSuffix(rest, "*") || rest == ""}
		num := strings.TrimSuffix(rest, "*")
		if num != "" {
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 999 {
				continue
			}
			s.n = n
		}
		s.val = val
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
					// charset'language'value
					if c, rest, ok := strings.Cut(val, "'"); ok {
						if _, rest2, ok := strings.Cut(rest, "'"); ok {
							cs, val = c, rest2
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
		params[name] = decodeParamBytes(raw, cs)
	}
	for k, v := range params {
		if _, fromCont := cont[k]; fromCont {
			continue
		}
		params[k] = decodeWordsOrRaw(v)
	}
	return token, params
}

// splitParams splits on semicolons outside quotes.
func splitParams(v string) []string {
	var out []string
	var b strings.Builder
	inQuote, esc := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote:
			out = append(out, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	out = append(out, b.String())
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		if strings.IndexByte(v, '\\') >= 0 {
			var b strings.Builder
			for i := 0; i < len(v); i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				b.WriteByte(v[i])
			}
			v = b.String()
		}
	} else if len(v) >= 1 && v[0] == '"' {
		v = v[1:] // unterminated quote
	}
	return v
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

func decodeParamBytes(raw []byte, cs string) string {
	if e := lookupCharset(cs); e != nil {
		out, _ := decodeWith(e, raw)
		return string(out)
	}
	out, _, _ := decodeText(raw, "")
	return string(out)
}

// decodeWordsOrRaw decodes RFC 2047 words (also the non-standard use inside
// quoted parameters) and raw 8-bit bytes in a header value.
func decodeWordsOrRaw(v string) string {
	if strings.Contains(v, "=?") {
		if d, err := newWordDecoder().DecodeHeader(v); err == nil {
			v = d
		}
	}
	if !utf8.ValidString(v) {
		out, _, _ := decodeText([]byte(v), "")
		v = string(out)
	}
	return v
}

// newWordDecoder resolves RFC 2047 charsets with the package's aliases.
func newWordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: charsetReader}
}

func charsetReader(label string, input io.Reader) (io.Reader, error) {
	if isASCIILabel(label) {
		return input, nil
	}
	e := lookupCharset(label)
	if e == nil {
		return nil, fmt.Errorf("unknown charset %q", label)
	}
	return e.NewDecoder().Reader(input), nil
}
