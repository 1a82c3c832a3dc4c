package extract

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// PDF metadata is read from the file's bytes, apart from text extraction:
// the document information dictionary (/Title, /Subject, /Keywords) and the
// XMP packet (dc:title, dc:description, dc:subject, pdf:Keywords), which
// producers write uncompressed so that indexers find them. Author fields
// are left out, as for Office documents. An encrypted PDF's strings are
// ciphertext and are not read.

// pdfMetaWindow bounds how much of a PDF is searched for its metadata: the
// information dictionary sits near the end (or the start, when
// linearised), the XMP packet usually near the start.
const pdfMetaWindow = 4 << 20

var (
	pdfInfoRef  = regexp.MustCompile(`/Info\s+(\d{1,10})\s+(\d{1,5})\s+R`)
	pdfRef      = regexp.MustCompile(`^(\d{1,10})\s+(\d{1,5})\s+R`)
	pdfInfoKeys = []string{"/Title", "/Subject", "/Keywords"}
	xmpFields   = regexp.MustCompile(`(?s)<(dc:title|dc:description|dc:subject|pdf:Keywords)\b[^>]*>(.*?)</(?:dc:title|dc:description|dc:subject|pdf:Keywords)>`)
	xmlTags     = regexp.MustCompile(`<[^>]*>`)
)

// pdfWindows holds the windows' buffers. Two fresh 4 MiB buffers for a
// large PDF cost more in page faults than the search itself.
var pdfWindows = sync.Pool{New: func() any { return new([pdfMetaWindow]byte) }}

// pdfProperties returns the PDF's titles, subjects and keywords, one per
// line, or nil. Nothing it returns refers to the windows.
func pdfProperties(sp *spilled) []byte {
	hb := pdfWindows.Get().(*[pdfMetaWindow]byte)
	defer pdfWindows.Put(hb)
	head := readWindow(sp, 0, hb[:min(sp.size, pdfMetaWindow)])
	tail := head
	if sp.size > pdfMetaWindow {
		tw := pdfWindows.Get().(*[pdfMetaWindow]byte)
		defer pdfWindows.Put(tw)
		tail = readWindow(sp, sp.size-pdfMetaWindow, tw[:])
	}
	// The /Encrypt entry sits in the trailer or the cross-reference
	// stream's dictionary, which are in these windows.
	if bytes.Contains(head, []byte("/Encrypt")) || bytes.Contains(tail, []byte("/Encrypt")) {
		return nil
	}
	tb := &textBuf{max: maxPropertiesText}
	// The last /Info reference is the current one (incremental updates
	// append a new trailer).
	for _, win := range [][]byte{tail, head} {
		refs := pdfInfoRef.FindAllSubmatch(win, -1)
		if len(refs) == 0 {
			continue
		}
		ref := refs[len(refs)-1]
		dict := pdfObject(head, tail, ref[1], ref[2])
		for _, key := range pdfInfoKeys {
			if v := pdfDictString(dict, key, head, tail); len(v) > 0 {
				tb.write(v)
				tb.newline()
			}
		}
		break
	}
	for _, win := range [][]byte{head, tail} {
		start := bytes.Index(win, []byte("<x:xmpmeta"))
		if start < 0 {
			continue
		}
		end := bytes.Index(win[start:], []byte("</x:xmpmeta>"))
		if end < 0 {
			continue
		}
		for _, m := range xmpFields.FindAllSubmatch(win[start:start+end], -1) {
			text := bytes.TrimSpace(xmlTags.ReplaceAll(m[2], []byte(" ")))
			if len(text) > 0 {
				tb.write(unescapeXML(nil, bytes.Join(bytes.Fields(text), []byte(" "))))
				tb.newline()
			}
		}
		break
	}
	if tb.len() == 0 {
		return nil
	}
	return bytes.Clone(tb.bytes())
}

func readWindow(r io.ReaderAt, off int64, b []byte) []byte {
	k, _ := r.ReadAt(b, off)
	return b[:k]
}

// pdfObject returns the bytes after "N G obj" (up to endobj) in either
// window.
func pdfObject(head, tail, num, gen []byte) []byte {
	for _, win := range [][]byte{tail, head} {
		at := lastObjHeader(win, num, gen)
		if at < 0 {
			continue
		}
		obj := win[at:]
		if end := bytes.Index(obj, []byte("endobj")); end >= 0 {
			obj = obj[:end]
		}
		return obj
	}
	return nil
}

// lastObjHeader returns the end of the last "num gen obj" header in win
// (num and gen digits, each followed by PDF white space, num not preceded
// by a digit, obj not followed by a word byte), or -1. It finds each "obj"
// with bytes.Index and checks the header back from it: a regular
// expression without a literal prefix ran its automaton over every byte
// of the window, and bytes.LastIndex reads about twenty times slower.
func lastObjHeader(win, num, gen []byte) int {
	last := -1
	for from := 0; ; {
		i := bytes.Index(win[from:], []byte("obj"))
		if i < 0 {
			return last
		}
		i += from
		from = i + 3
		if objHeaderBefore(win, i, num, gen) {
			last = i + 3
		}
	}
}

// objHeaderBefore reports whether the "obj" at i ends a "num gen obj"
// header.
func objHeaderBefore(win []byte, i int, num, gen []byte) bool {
	if after := i + 3; after < len(win) && isWordByte(win[after]) {
		return false
	}
	j := skipSpaceBack(win, i)
	if j == i || !bytes.HasSuffix(win[:j], gen) {
		return false
	}
	j -= len(gen)
	k := skipSpaceBack(win, j)
	if k == j || !bytes.HasSuffix(win[:k], num) {
		return false
	}
	k -= len(num)
	return k == 0 || win[k-1] < '0' || win[k-1] > '9'
}

// skipSpaceBack returns the start of the run of white space (isSpace, as
// \s in Go's regular expressions) that ends at i.
func skipSpaceBack(b []byte, i int) int {
	for i > 0 && isSpace(b[i-1]) {
		i--
	}
	return i
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// pdfDictString returns the decoded string value of key in a dictionary's
// bytes, following one indirect reference.
func pdfDictString(dict []byte, key string, head, tail []byte) []byte {
	for i := 0; ; {
		j := bytes.Index(dict[i:], []byte(key))
		if j < 0 {
			return nil
		}
		i += j + len(key)
		if i < len(dict) && isPDFRegular(dict[i]) {
			continue // a longer name (/TitleX)
		}
		v := bytes.TrimLeft(dict[i:], " \t\r\n")
		if m := pdfRef.FindSubmatch(v); m != nil {
			v = bytes.TrimLeft(pdfObject(head, tail, m[1], m[2]), " \t\r\n")
		}
		raw, ok := pdfString(v)
		if !ok {
			return nil
		}
		return decodePDFText(raw)
	}
}

func isPDFRegular(c byte) bool {
	return c > ' ' && !bytes.ContainsRune([]byte("()<>[]{}/%"), rune(c))
}

// pdfString parses a literal (…) or hex <…> string at the start of v.
func pdfString(v []byte) ([]byte, bool) {
	if len(v) == 0 {
		return nil, false
	}
	switch {
	case v[0] == '(':
		var out []byte
		depth := 0
		for i := 1; i < len(v) && len(out) < maxPropertiesText; i++ {
			c := v[i]
			switch c {
			case '\\':
				i++
				if i >= len(v) {
					return out, true
				}
				switch e := v[i]; e {
				case 'n':
					out = append(out, '\n')
				case 'r':
					out = append(out, '\r')
				case 't':
					out = append(out, '\t')
				case 'b', 'f':
				case '\r', '\n':
					if e == '\r' && i+1 < len(v) && v[i+1] == '\n' {
						i++
					}
				default:
					if e >= '0' && e <= '7' {
						n := 0
						k := 0
						for ; k < 3 && i+k < len(v) && v[i+k] >= '0' && v[i+k] <= '7'; k++ {
							n = n*8 + int(v[i+k]-'0')
						}
						i += k - 1
						out = append(out, byte(n))
					} else {
						out = append(out, e)
					}
				}
			case '(':
				depth++
				out = append(out, c)
			case ')':
				if depth == 0 {
					return out, true
				}
				depth--
				out = append(out, c)
			default:
				out = append(out, c)
			}
		}
		return out, true
	case v[0] == '<' && (len(v) < 2 || v[1] != '<'):
		end := bytes.IndexByte(v, '>')
		if end < 0 {
			return nil, false
		}
		hex := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, v[1:end])
		if len(hex)%2 == 1 {
			hex = append(hex, '0')
		}
		out := make([]byte, 0, len(hex)/2)
		for i := 0; i+1 < len(hex); i += 2 {
			n, err := strconv.ParseUint(string(hex[i:i+2]), 16, 8)
			if err != nil {
				return nil, false
			}
			out = append(out, byte(n))
		}
		return out, true
	}
	return nil, false
}

// decodePDFText decodes a text string: UTF-16BE with its BOM, UTF-8 with
// its BOM (PDF 2.0) or as written, else the legacy encodings Japanese
// producers use (detected), else PDFDocEncoding read as Latin-1.
func decodePDFText(b []byte) []byte {
	switch {
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return []byte(string(utf16.Decode(u)))
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		return bytes.ToValidUTF8(b[3:], nil)
	case utf8.Valid(b):
		return b
	}
	out, _, _ := decodeText(b, "")
	return out
}
