package extract

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// fastPart reads a WordprocessingML or DrawingML part whole and yields
// the same text as xmlDecodeText, for the subset of XML it accepts: UTF-8
// without characters XML forbids, ASCII names with at most one prefix,
// quoted attributes, the five predefined entities, and processing
// instructions (an XML declaration only for version 1.0 and UTF-8). It
// refuses (parse reports false) anything else, so that encoding/xml, which
// would read it differently or fail, reads it instead; within the subset
// every choice follows encoding/xml's RawToken in strict mode.
type fastPart struct {
	data []byte // the part as read
	out  []byte // text produced
	ends []int  // out[prev:end] is one textBuf.write of the token loop
}

// fastPartMax is the largest part read whole; a body part of a typical
// document is tens of KB.
const fastPartMax = 512 << 10

// xmlReadPiece is what encoding/xml's bufio.Reader asks of the part at a
// time: reading in the same pieces makes the inflate limits and the
// deadline trip at the same byte.
const xmlReadPiece = 4096

var fastParts = sync.Pool{New: func() any { return new(fastPart) }}

func (p *fastPart) release() {
	if cap(p.data) > fastPartMax+xmlReadPiece || cap(p.out) > fastPartMax+xmlReadPiece {
		return // grown by a hostile part: left to the collector
	}
	p.data, p.out, p.ends = p.data[:0], p.out[:0], p.ends[:0]
	fastParts.Put(p)
}

// read reads r in xmlReadPiece requests until an error (io.EOF included),
// reported with whole, or until fastPartMax bytes are in (whole false),
// as bufio.Reader's fill would, 100 empty reads included.
func (p *fastPart) read(r io.Reader) (whole bool, err error) {
	p.data = p.data[:0]
	empty := 0
	for len(p.data) < fastPartMax {
		if cap(p.data)-len(p.data) < xmlReadPiece {
			grown := make([]byte, len(p.data), 2*cap(p.data)+xmlReadPiece)
			copy(grown, p.data)
			p.data = grown
		}
		n, err := r.Read(p.data[len(p.data) : len(p.data)+xmlReadPiece])
		p.data = p.data[:len(p.data)+n]
		if err != nil {
			return true, err
		}
		if n > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			return true, io.ErrNoProgress
		}
	}
	return false, nil
}

// stickyErr is the end of a part read whole: its error, every time, as
// encoding/xml keeps the first.
type stickyErr struct{ err error }

func (s stickyErr) Read([]byte) (int, error) { return 0, s.err }

// replay writes the text as the token loop writes it, one call per token.
func (p *fastPart) replay(tb *textBuf) {
	prev := 0
	for _, end := range p.ends {
		tb.write(p.out[prev:end])
		prev = end
	}
}

func (p *fastPart) emit(c byte) {
	p.out = append(p.out, c)
	p.ends = append(p.ends, len(p.out))
}

// parse tokenizes data; false means the part is not in the subset (or is
// malformed) and nothing of out may be used.
func (p *fastPart) parse() bool {
	b := p.data
	if !xmlCharsOnly(b) {
		return false
	}
	p.out, p.ends = p.out[:0], p.ends[:0]
	inText, inCell := 0, 0
	i := 0
	for i < len(b) {
		if b[i] != '<' {
			j := bytes.IndexByte(b[i:], '<')
			if j < 0 {
				j = len(b)
			} else {
				j += i
			}
			t := b[i:j]
			if bytes.Contains(t, []byte("]]>")) {
				return false // an error outside CDATA
			}
			if inText > 0 {
				if bytes.IndexByte(t, '\r') >= 0 {
					return false // encoding/xml turns CR and CRLF into LF
				}
				start := len(p.out)
				var ok bool
				if p.out, ok = appendEntities(p.out, t); !ok {
					return false
				}
				if len(p.out) > start {
					p.ends = append(p.ends, len(p.out))
				}
			} else if bytes.IndexByte(t, '&') >= 0 {
				if _, ok := appendEntities(nil, t); !ok {
					return false // encoding/xml checks text it is not asked for
				}
			}
			i = j
			continue
		}
		if i+1 >= len(b) {
			return false
		}
		switch b[i+1] {
		case '!':
			return false // comment, CDATA, DOCTYPE
		case '?':
			name, k, ok := xmlName(b, i+2)
			if !ok {
				return false
			}
			k = skipXMLSpace(b, k)
			end := bytes.Index(b[k:], []byte("?>"))
			if end < 0 {
				return false
			}
			if string(name) == "xml" {
				content := string(b[k : k+end])
				if v := procInstParam("version", content); v != "" && v != "1.0" {
					return false
				}
				if e := procInstParam("encoding", content); e != "" && !strings.EqualFold(e, "utf-8") {
					return false
				}
			}
			i = k + end + 2
		case '/':
			name, k, ok := xmlName(b, i+2)
			if !ok {
				return false
			}
			k = skipXMLSpace(b, k)
			if k >= len(b) || b[k] != '>' {
				return false
			}
			p.end(localName(name), &inText, &inCell)
			i = k + 1
		default:
			name, k, ok := xmlName(b, i+1)
			if !ok {
				return false
			}
			empty := false
			for {
				k = skipXMLSpace(b, k)
				if k >= len(b) {
					return false
				}
				if b[k] == '/' {
					if k+1 >= len(b) || b[k+1] != '>' {
						return false
					}
					empty, k = true, k+2
					break
				}
				if b[k] == '>' {
					k++
					break
				}
				if _, k, ok = xmlName(b, k); !ok {
					return false
				}
				k = skipXMLSpace(b, k)
				if k >= len(b) || b[k] != '=' {
					return false
				}
				k = skipXMLSpace(b, k+1)
				if k >= len(b) || b[k] != '"' && b[k] != '\'' {
					return false
				}
				q := bytes.IndexByte(b[k+1:], b[k])
				if q < 0 {
					return false
				}
				v := b[k+1 : k+1+q]
				if bytes.IndexByte(v, '<') >= 0 {
					return false
				}
				if bytes.IndexByte(v, '&') >= 0 {
					if _, ok := appendEntities(nil, v); !ok {
						return false
					}
				}
				k += q + 2
			}
			local := localName(name)
			p.start(local, &inText, &inCell)
			if empty {
				p.end(local, &inText, &inCell)
			}
			i = k
		}
	}
	return true
}

// start and end are xmlDecodeText's cases.
func (p *fastPart) start(local []byte, inText, inCell *int) {
	switch string(local) {
	case "t", "delText":
		*inText++
	case "tab":
		p.emit('\t')
	case "br", "cr":
		p.emit(cellSep(*inCell, '\n'))
	case "tc":
		*inCell++
	}
}

func (p *fastPart) end(local []byte, inText, inCell *int) {
	switch string(local) {
	case "t", "delText":
		*inText = max(0, *inText-1)
	case "p":
		p.emit(cellSep(*inCell, '\n'))
	case "tc":
		*inCell = max(0, *inCell-1)
		p.emit('\t')
	case "tr":
		p.emit('\n')
	}
}

// xmlName reads the name at b[i:]: ASCII, starting with a letter or '_',
// with at most one ':' inside it. A name encoding/xml reads otherwise (a
// non-ASCII byte, a ':' at either end, two of them) is refused.
func xmlName(b []byte, i int) (name []byte, next int, ok bool) {
	j := i
	colons := 0
	for j < len(b) {
		c := b[j]
		if c >= utf8.RuneSelf {
			return nil, 0, false
		}
		if !isXMLNameByte(c) {
			break
		}
		if c == ':' {
			colons++
		}
		j++
	}
	if j == i || j >= len(b) {
		return nil, 0, false
	}
	c := b[i]
	if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_') || colons > 1 || b[j-1] == ':' {
		return nil, 0, false
	}
	return b[i:j], j, true
}

func isXMLNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

func skipXMLSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// appendEntities appends t with the predefined entities resolved; any
// other reference (numeric ones included) is refused.
func appendEntities(dst, t []byte) ([]byte, bool) {
	for {
		i := bytes.IndexByte(t, '&')
		if i < 0 {
			return append(dst, t...), true
		}
		dst = append(dst, t[:i]...)
		t = t[i:]
		var c byte
		var n int
		switch {
		case bytes.HasPrefix(t, []byte("&amp;")):
			c, n = '&', 5
		case bytes.HasPrefix(t, []byte("&lt;")):
			c, n = '<', 4
		case bytes.HasPrefix(t, []byte("&gt;")):
			c, n = '>', 4
		case bytes.HasPrefix(t, []byte("&quot;")):
			c, n = '"', 6
		case bytes.HasPrefix(t, []byte("&apos;")):
			c, n = '\'', 6
		default:
			return dst, false
		}
		dst = append(dst, c)
		t = t[n:]
	}
}

// xmlCharsOnly reports whether b is UTF-8 holding only characters XML
// allows (no C0 controls but tab, LF and CR; no U+FFFE or U+FFFF).
func xmlCharsOnly(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
		if c == 0xEF && i+2 < len(b) && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
			return false
		}
	}
	return true
}

// procInstParam is encoding/xml's reading of a parameter of the XML
// declaration (procInst), kept as loose as it is.
func procInstParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}
