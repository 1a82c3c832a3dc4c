package recipients

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// encodedWord matches one RFC 2047 encoded word.
var encodedWord = regexp.MustCompile(`=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=`)

// mergeEncodedWords joins runs of adjacent encoded words that share a
// charset into one B-encoded word. RFC 2047 requires each word to hold whole
// characters, but some mailers split a multi-byte character (UTF-8 or
// Shift_JIS) across two words, which decoding word by word turns into U+FFFD.
// Words separated only by white space are one run (the space between them is
// not part of the text, RFC 2047 section 6.2).
func mergeEncodedWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	locs := encodedWord.FindAllStringSubmatchIndex(s, -1)
	if len(locs) < 2 {
		return s
	}
	var (
		b       strings.Builder
		last    int // end of the text already written
		charset string
		payload []byte
		runEnd  int // end of the current run in s, or -1
	)
	flush := func() {
		if runEnd >= 0 {
			b.WriteString("=?" + charset + "?B?" + base64.StdEncoding.EncodeToString(payload) + "?=")
			last = runEnd
		}
		runEnd, payload = -1, nil
	}
	runEnd = -1
	for _, m := range locs {
		cs, enc, text := s[m[2]:m[3]], s[m[4]:m[5]], s[m[6]:m[7]]
		raw, ok := decodeWordPayload(enc, text)
		contiguous := runEnd >= 0 && strings.TrimSpace(s[runEnd:m[0]]) == "" && strings.EqualFold(cs, charset)
		if !ok {
			flush()
			continue
		}
		if !contiguous {
			flush()
			b.WriteString(s[last:m[0]])
			last = m[0]
			charset = cs
		}
		payload = append(payload, raw...)
		runEnd = m[1]
	}
	flush()
	b.WriteString(s[last:])
	return b.String()
}

// decodeWordPayload decodes the text of a B or Q encoded word to bytes.
func decodeWordPayload(enc, text string) ([]byte, bool) {
	if enc == "b" || enc == "B" {
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			// Some mailers drop the padding.
			raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(text, "="))
		}
		return raw, err == nil
	}
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		case c == '=':
			return nil, false
		default:
			out = append(out, c)
		}
	}
	return out, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
