package extract

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sendguard/sendguard/rules"
)

// ooxmlKind recognises an Office Open XML package by its parts rather
// than by name: "docx", "xlsx", "pptx" or "".
func ooxmlKind(zr *zip.Reader) string {
	var ct bool
	kind := ""
	for _, f := range zr.File {
		switch f.Name {
		case "[Content_Types].xml":
			ct = true
		case "word/document.xml":
			kind = "docx"
		case "xl/workbook.xml":
			kind = "xlsx"
		case "ppt/presentation.xml":
			kind = "pptx"
		}
	}
	if !ct {
		return ""
	}
	return kind
}

var (
	docxParts = regexp.MustCompile(`^word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml$`)
	pptxParts = regexp.MustCompile(`^ppt/(slides/slide|notesSlides/notesSlide|comments/comment)(\d+)\.xml$`)
	partNum   = regexp.MustCompile(`(\d+)\.xml$`)
)

// ooxml reads the text of a docx (document, headers, footers, footnotes,
// endnotes, comments), a pptx (slides, notes, comments) or an xlsx (every
// sheet, one row per line).
func (w *walker) ooxml(att *rules.Attachment, zr *zip.Reader, kind string) result {
	if encryptedOOXML(zr) {
		att.Encrypted = true
		return result{unscannable: "encrypted Office document"}
	}
	props := w.docProperties(att.Location, zr, kind)
	if kind == "xlsx" {
		res := w.xlsx(att, zr)
		res.properties = props
		return res
	}
	var parts []*zip.File
	for _, f := range zr.File {
		if kind == "docx" && docxParts.MatchString(f.Name) || kind == "pptx" && pptxParts.MatchString(f.Name) {
			parts = append(parts, f)
		}
	}
	sort.SliceStable(parts, func(i, j int) bool { return partOrder(parts[i].Name) < partOrder(parts[j].Name) })
	tb := w.newTextBuf(att.Location, false)
	res := result{contentType: att.Type, charset: "utf-8", properties: props}
	for _, f := range parts {
		if err := w.xmlPartText(f, tb); err != nil {
			var le *limitError
			if errors.As(err, &le) {
				res.unscannable = le.reason
				break
			}
			w.errorf(att.Location, "%s: %s", f.Name, shortErr(err))
		}
		tb.newline()
		if tb.full {
			break
		}
	}
	res.text, res.stream, res.truncated = tb.bytes(), tb, tb.full
	return res
}

// partOrder sorts the document before headers, footers and notes, and
// numbered parts (slide2 < slide10) numerically.
func partOrder(name string) string {
	group := "9"
	switch {
	case strings.Contains(name, "document"), strings.Contains(name, "/slides/"):
		group = "0"
	case strings.Contains(name, "header"):
		group = "1"
	case strings.Contains(name, "footer"):
		group = "2"
	case strings.Contains(name, "notes"):
		group = "3"
	}
	n := 0
	if m := partNum.FindStringSubmatch(name); m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	return group + strconv.Itoa(100000000+n) + name
}

// encryptedOOXML: an OOXML package in a zip cannot be encrypted (that is a
// CDFV2 container, see oleFile); this catches packages carrying the
// encryption parts anyway.
func encryptedOOXML(zr *zip.Reader) bool {
	for _, f := range zr.File {
		if f.Name == "EncryptedPackage" || f.Name == "EncryptionInfo" {
			return true
		}
	}
	return false
}

// openPart opens a package part through the inflate limits.
func (w *walker) openPart(f *zip.File) (io.ReadCloser, error) {
	if f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > uint64(w.lim.MaxRatio) {
		return nil, &limitError{"zip bomb: ratio over limit in " + f.Name}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{w.inflateLimit(rc, f.CompressedSize64), rc}, nil
}

// xmlPartText appends the text runs of a WordprocessingML or DrawingML
// part: w:t, w:delText (deleted text is still sent) and a:t; paragraphs end
// lines, tabs and table cells become tabs.
//
// A part of up to fastPartMax bytes is read whole and tokenized by
// fastPart, without encoding/xml's allocation per token (a third of a
// small docx's CPU); whatever fastPart does not accept as the plain XML
// Office writes (a comment, a charset, an unknown entity, a syntax error)
// goes through encoding/xml as before, over the same bytes. The part is
// read in the pieces encoding/xml's reader would ask for, and not beyond
// what it would read, so the limits count the same.
func (w *walker) xmlPartText(f *zip.File, tb *textBuf) error {
	rc, err := w.openPart(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	// fastPart's text is never longer than its input: with more room than
	// that, the text cannot reach the cap inside this part, so reading it
	// whole reads no more than the token loop below would.
	if tb.full || tb.max-tb.n <= fastPartMax {
		return xmlDecodeText(rc, tb)
	}
	fp := fastParts.Get().(*fastPart)
	defer fp.release()
	whole, rerr := fp.read(rc)
	if whole && rerr == io.EOF && fp.parse() {
		fp.replay(tb)
		return nil
	}
	rest := rc
	if whole {
		rest = io.NopCloser(stickyErr{rerr})
	}
	return xmlDecodeText(io.MultiReader(bytes.NewReader(fp.data), rest), tb)
}

// xmlDecodeText is xmlPartText's token loop over encoding/xml.
func xmlDecodeText(r io.Reader, tb *textBuf) error {
	d := xml.NewDecoder(r)
	d.CharsetReader = charsetReader
	inText, inCell := 0, 0
	for !tb.full {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t", "delText":
				inText++
			case "tab":
				tb.byte('\t')
			case "br", "cr":
				tb.byte(cellSep(inCell, '\n'))
			case "tc":
				inCell++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t", "delText":
				inText = max(0, inText-1)
			case "p":
				tb.byte(cellSep(inCell, '\n'))
			case "tc":
				inCell = max(0, inCell-1)
				tb.byte('\t')
			case "tr":
				tb.byte('\n')
			}
		case xml.CharData:
			if inText > 0 {
				tb.write(t)
			}
		}
	}
	return nil
}

// zipIndex maps part names to files, with the leading slash some
// relationships use removed.
func zipIndex(zr *zip.Reader) map[string]*zip.File {
	m := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		m[strings.TrimPrefix(f.Name, "/")] = f
	}
	return m
}

// resolveTarget resolves a relationship target relative to base's folder.
func resolveTarget(base, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(target, "/")
	}
	return path.Clean(path.Join(path.Dir(base), target))
}

// cellSep keeps a table row on one line: inside a cell, paragraph and
// line breaks become spaces.
func cellSep(inCell int, c byte) byte {
	if inCell > 0 {
		return ' '
	}
	return c
}
