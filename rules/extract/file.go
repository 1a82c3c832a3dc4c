package extract

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/extract/worker"
)

// file is an attachment or an archive entry about to be read.
type file struct {
	name     string // decoded file name (may contain a path inside archives)
	loc      string
	declared string // declared media type ("" inside archives)
	charset  string // declared charset
	depth    int
	std      *stdHash // set for a file of the sent record (stdfile.go)
}

// result is what a format reader got out of a file.
type result struct {
	text        []byte
	stream      *textBuf // text written through a window (WalkStream)
	contentType string
	charset     string
	tabular     bool
	truncated   bool
	unscannable string
	properties  []byte // document properties (docprops.go)
}

// sniffLen is how much of a file content sniffing sees (mimetype's default).
const sniffLen = 3072

// file sniffs a file's true type, reads it with the matching reader and
// yields it after its contents (for containers), with its decoded size.
func (w *walker) file(f file, r io.Reader) error {
	att := &rules.Attachment{Name: f.name, Location: f.loc, DeclaredType: f.declared, Depth: f.depth}
	rr := &recordingReader{r: r}
	// The sniffed head is read by this file's reader only: pooled.
	hp := getScratch()
	head := slices.Grow((*hp)[:0], sniffLen)[:sniffLen]
	defer putScratch(hp, head)
	n, _ := io.ReadFull(rr, head)
	head = head[:n]
	mt := mimetype.Detect(head)
	att.Type = baseType(mt.String())
	att.Executable = isExecutable(mt) || hasRiskyExtension(f.name)
	src := io.MultiReader(bytes.NewReader(head), rr)

	var res result
	var err error
	switch k := classify(mt, f, head); k {
	case kindMessage:
		att.Type = "message/rfc822"
		res, err = w.attachedMessage(att, src)
	case kindText, kindHTML, kindTabular:
		res = w.textFile(f, src, k, att.Type)
	case kindZip, kindPDF, kindOLE:
		res, err = w.randomAccess(att, src, k, f.std)
	case kindMedia:
		// images, audio, video, fonts: no text to read
	case kindArchiveOther:
		att.Archive = true
		res.unscannable = "archive format " + att.Type + " not supported"
	case kindExecutable:
		res.unscannable = "executable (" + att.Type + ")"
	default:
		res.unscannable = "unsupported format " + att.Type
	}
	if err != nil {
		return err
	}
	drain(src)
	att.Size = rr.n
	if f.std != nil {
		if att.SHA256 = f.std.sum(); att.SHA256 == "" {
			w.notHashed()
		}
	}
	if reason := rr.limitReason(); reason != "" {
		res.unscannable = reason
	}
	w.readProblem(f.loc, rr)
	if res.truncated {
		w.errorf(f.loc, "text cut at %d bytes", w.lim.MaxPartText)
	}
	ct := res.contentType
	if ct == "" {
		ct = att.Type
	}
	p := &Part{
		Location:    f.loc,
		Attachment:  att,
		ContentType: ct,
		Charset:     res.charset,
		Text:        res.text,
		Truncated:   res.truncated,
		Tabular:     res.tabular,
		Unscannable: res.unscannable,
		Properties:  res.properties,
	}
	if res.stream != nil {
		res.stream.finish(p)
	}
	return w.yield(p)
}

type kind int

const (
	kindUnknown kind = iota
	kindText
	kindHTML
	kindTabular
	kindMessage
	kindZip
	kindPDF
	kindOLE
	kindMedia
	kindArchiveOther
	kindExecutable
)

// classify picks the reader by sniffed type. The declared type and the
// name are used only where content cannot tell (an attached message is
// declared; CSV is text that sniffing may call plain).
func classify(mt *mimetype.MIME, f file, head []byte) kind {
	ext := strings.ToLower(path.Ext(f.name))
	switch {
	case f.declared == "message/rfc822" || f.declared == "message/global":
		return kindMessage
	case isA(mt, "application/zip"):
		return kindZip
	case isA(mt, "application/pdf"):
		return kindPDF
	case isA(mt, "application/x-ole-storage"):
		return kindOLE
	case isExecutable(mt):
		return kindExecutable
	case isA(mt, "message/rfc822") && (ext == ".eml" || ext == ".msg" || ext == ""):
		return kindMessage
	case isA(mt, "text/html") || isA(mt, "application/xhtml+xml"):
		return kindHTML
	case isA(mt, "text/csv") || isA(mt, "text/tab-separated-values") || ext == ".csv" || ext == ".tsv":
		if isA(mt, "text/plain") || isA(mt, "application/octet-stream") && looksText(head) {
			return kindTabular
		}
	}
	t := mt.String()
	switch {
	case isA(mt, "text/plain"), strings.HasPrefix(t, "text/"), isA(mt, "application/json"), isA(mt, "application/xml"), isA(mt, "text/xml"):
		return kindText
	case isA(mt, "application/gzip"), isA(mt, "application/x-tar"), isA(mt, "application/x-7z-compressed"),
		isA(mt, "application/x-rar-compressed"), isA(mt, "application/x-bzip2"), isA(mt, "application/x-xz"),
		isA(mt, "application/x-lzh-compressed"), isA(mt, "application/zstd"):
		return kindArchiveOther
	case strings.HasPrefix(t, "image/"), strings.HasPrefix(t, "audio/"), strings.HasPrefix(t, "video/"), strings.HasPrefix(t, "font/"):
		return kindMedia
	case isA(mt, "application/octet-stream") && looksText(head):
		// UTF-16 without BOM and similar: text that sniffing calls binary
		return kindText
	}
	return kindUnknown
}

// isA reports whether mt is t or a descendant of t (docx is a zip).
func isA(mt *mimetype.MIME, t string) bool {
	for m := mt; m != nil; m = m.Parent() {
		if is(m, t) {
			return true
		}
	}
	return false
}

// is is m.Is(t), remembered: Is parses both media types on every call,
// and classifying one file asks it some forty times. Its answer depends on
// m's type string and aliases only, and the aliases are those of the type
// (types that occur twice in mimetype's tree have none), so the type
// string and t key it. The keys are the sniffer's types and this file's
// questions, but a type string can carry a charset read from the content:
// the cache stops growing at maxIsCache.
func is(m *mimetype.MIME, t string) bool {
	k := isKey{m.String(), t}
	cache := *isCache.Load()
	if v, ok := cache[k]; ok {
		return v
	}
	v := m.Is(t)
	if len(cache) >= maxIsCache {
		return v
	}
	isMu.Lock()
	defer isMu.Unlock()
	old := *isCache.Load()
	next := make(map[isKey]bool, len(old)+1)
	maps.Copy(next, old)
	next[k] = v
	isCache.Store(&next)
	return v
}

type isKey struct{ mime, t string }

const maxIsCache = 2048

// isCache is replaced whole on a miss, so readers take no lock.
var (
	isMu    sync.Mutex
	isCache atomic.Pointer[map[isKey]bool]
)

func init() { isCache.Store(&map[isKey]bool{}) }

func isExecutable(mt *mimetype.MIME) bool {
	for _, t := range []string{
		"application/vnd.microsoft.portable-executable", "application/x-elf", "application/x-mach-binary",
		"application/x-msdownload", "application/x-ms-installer", "application/x-dosexec",
		"application/java-archive", "application/x-java-applet", "application/vnd.android.package-archive",
		"application/x-ms-shortcut",
	} {
		if isA(mt, t) {
			return true
		}
	}
	return false
}

// hasRiskyExtension flags scripts and installers that are text or zips to
// a sniffer but run when opened.
func hasRiskyExtension(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".exe", ".com", ".scr", ".pif", ".bat", ".cmd", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh",
		".ps1", ".hta", ".msi", ".msp", ".jar", ".lnk", ".cpl", ".dll", ".reg", ".iso", ".img", ".vhd":
		return true
	}
	return false
}

func baseType(t string) string {
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}

// looksText reports whether bytes that sniffing called binary decode
// cleanly as UTF-16 (the usual case of text sniffing misses).
func looksText(head []byte) bool {
	return len(head) >= 4 && utf16ByZeros(head) != nil
}

// textFile reads a text attachment (plain, CSV/TSV, JSON, XML, HTML) in
// any of the supported charsets.
func (w *walker) textFile(f file, r io.Reader, k kind, sniffed string) result {
	json := sniffed == "application/json" || sniffed == "application/x-ndjson"
	if w.open != nil && k != kindHTML && !json {
		// plain text and CSV, the large ones, through a window
		tb := w.newTextBuf(f.loc, k == kindTabular)
		used, truncated, problem := w.streamDecode(r, f.charset, true, k == kindText, tb)
		if problem != "" {
			w.errorf(f.loc, "%s", problem)
		}
		return result{stream: tb, charset: used, truncated: truncated || tb.full, contentType: sniffed, tabular: tb.tabular}
	}
	raw, _, truncated := readCapped(r, w.lim.MaxPartText)
	cs := f.charset
	if cs == "" {
		cs = xmlDeclCharset(raw)
	}
	text, used := w.decode(f.loc, raw, cs, k == kindHTML, truncated)
	if json {
		// ASCII-safe exports write every non-ASCII character as \uXXXX
		text = unescapeJSONUnicode(text)
	}
	text, cut := worker.CapText(text, w.lim.MaxPartText)
	res := result{text: text, charset: used, truncated: truncated || cut, contentType: sniffed}
	if k == kindTabular || k == kindText && looksTabular(text) {
		res.tabular = true
	}
	if k == kindHTML {
		res.contentType = "text/html"
	}
	return res
}

// looksTabular recognises delimited text that sniffing did not call CSV:
// at least three lines with the same non-zero number of tabs or commas.
func looksTabular(text []byte) bool {
	lines := bytes.SplitN(text, []byte("\n"), 12)
	if len(lines) < 4 {
		return false
	}
	lines = lines[:len(lines)-1]
	for _, sep := range []byte{'\t', ','} {
		want := bytes.Count(lines[0], []byte{sep})
		if want == 0 {
			continue
		}
		same := 0
		for _, l := range lines[1:] {
			if bytes.Count(l, []byte{sep}) == want {
				same++
			}
		}
		if same >= 2 && same*10 >= (len(lines)-1)*8 {
			return true
		}
	}
	return false
}

func unscannablef(format string, args ...any) result {
	return result{unscannable: fmt.Sprintf(format, args...)}
}

// xmlDeclCharset returns the encoding named by an XML declaration.
func xmlDeclCharset(raw []byte) string {
	head := raw[:min(len(raw), 200)]
	if !bytes.HasPrefix(bytes.TrimLeft(head, "\xef\xbb\xbf \t\r\n"), []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(head, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := head[:end]
	i := bytes.Index(decl, []byte("encoding="))
	if i < 0 || i+10 > len(decl) {
		return ""
	}
	v := decl[i+9:]
	q := v[0]
	if q != '"' && q != '\'' {
		return ""
	}
	j := bytes.IndexByte(v[1:], q)
	if j < 0 {
		return ""
	}
	return string(v[1 : 1+j])
}

// unescapeJSONUnicode replaces \uXXXX escapes (surrogate pairs included)
// with the characters, leaving everything else as written.
func unescapeJSONUnicode(t []byte) []byte {
	if !bytes.Contains(t, []byte(`\u`)) {
		return t
	}
	out := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		if t[i] == '\\' && i+1 < len(t) && t[i+1] == '\\' {
			out = append(out, t[i], t[i+1])
			i++
			continue
		}
		if r, n := jsonEscape(t[i:]); n > 0 {
			if utf16.IsSurrogate(r) {
				if r2, n2 := jsonEscape(t[i+n:]); n2 > 0 {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						i += n + n2 - 1
						continue
					}
				}
			}
			out = utf8.AppendRune(out, r)
			i += n - 1
			continue
		}
		out = append(out, t[i])
	}
	return out
}

func jsonEscape(t []byte) (rune, int) {
	if len(t) < 6 || t[0] != '\\' || t[1] != 'u' {
		return 0, 0
	}
	v, err := strconv.ParseUint(string(t[2:6]), 16, 16)
	if err != nil {
		return 0, 0
	}
	return rune(v), 6
}
