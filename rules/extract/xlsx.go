package extract

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/sendguard/sendguard/rules"
)

// xlsx streams every worksheet of a workbook as tab-separated rows, one
// record per line, in workbook order. It reads the XML directly (shared
// strings, inline strings, values) instead of building excelize's model:
// memory is the shared-string table plus one row.
func (w *walker) xlsx(att *rules.Attachment, zr *zip.Reader) result {
	idx := zipIndex(zr)
	res := result{contentType: att.Type, charset: "utf-8", tabular: true}
	sheets := w.xlsxSheets(att.Location, idx)
	var sst sharedTable
	if f := idx["xl/sharedStrings.xml"]; f != nil {
		var err error
		sst, err = w.sharedStrings(f)
		if err != nil {
			var le *limitError
			if errors.As(err, &le) {
				res.unscannable = le.reason
				return res
			}
			w.errorf(att.Location, "shared strings: %s", shortErr(err))
		}
	}
	tb := w.newTextBuf(att.Location, true)
	if !tb.streaming() {
		// Size the text once from the sheets' XML (text is a third of it
		// or less) instead of doubling through every size up to it.
		var xmlSize uint64
		for _, f := range sheets {
			xmlSize += f.UncompressedSize64
		}
		tb.b = make([]byte, 0, int(min(xmlSize/3, uint64(w.lim.MaxPartText), 64<<20)))
	}
	for _, f := range sheets {
		if err := w.sheetRows(f, &sst, tb); err != nil {
			var le *limitError
			if errors.As(err, &le) {
				res.unscannable = le.reason
				break
			}
			w.errorf(att.Location, "%s: %s", f.Name, shortErr(err))
		}
		if tb.full {
			break
		}
	}
	res.text, res.stream, res.truncated = tb.bytes(), tb, tb.full
	return res
}

// xlsxSheets lists worksheet parts in workbook order; when the workbook
// or its relationships cannot be read, every worksheet part by number.
func (w *walker) xlsxSheets(loc string, idx map[string]*zip.File) []*zip.File {
	var ids []string
	targets := map[string]string{}
	if f := idx["xl/workbook.xml"]; f != nil {
		_ = w.eachStart(f, func(s *xmlScanner) {
			if string(s.name) == "sheet" {
				ids = append(ids, string(s.attr("id")))
			}
		})
	}
	if f := idx["xl/_rels/workbook.xml.rels"]; f != nil {
		_ = w.eachStart(f, func(s *xmlScanner) {
			if string(s.name) == "Relationship" {
				targets[string(s.attr("Id"))] = resolveTarget("xl/workbook.xml", string(s.attr("Target")))
			}
		})
	}
	var out []*zip.File
	seen := map[string]bool{}
	for _, id := range ids {
		if f := idx[targets[id]]; f != nil && !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f)
		}
	}
	var rest []*zip.File
	for name, f := range idx {
		if strings.HasPrefix(name, "xl/worksheets/") && strings.HasSuffix(name, ".xml") && !seen[f.Name] {
			rest = append(rest, f)
		}
	}
	if len(rest) > 0 && len(out) > 0 {
		w.errorf(loc, "%d worksheets not listed in the workbook", len(rest))
	}
	sort.Slice(rest, func(i, j int) bool { return partOrder(rest[i].Name) < partOrder(rest[j].Name) })
	return append(out, rest...)
}

// eachStart calls fn for every start (or empty) element of a part.
func (w *walker) eachStart(f *zip.File, fn func(*xmlScanner)) error {
	rc, err := w.openPart(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	s := newXMLScanner(rc)
	defer s.release()
	for {
		if err := s.next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if s.kind == tokStart || s.kind == tokSelfClose {
			fn(s)
		}
	}
}

// sharedTable is the shared-string table: every string in one byte slice,
// ends[i] the end of string i (two allocations that grow by doubling, not
// one per string, and a cell's text is a slice of it, not a copy).
type sharedTable struct {
	text []byte
	ends []int
}

func (t *sharedTable) len() int { return len(t.ends) }

func (t *sharedTable) at(i int) []byte {
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.text[start:t.ends[i]]
}

// add appends a string; over budget bytes of text, strings read as empty.
func (t *sharedTable) add(s []byte, budget int64) {
	if int64(len(t.text)+len(s)) <= budget {
		t.text = append(t.text, s...)
	}
	t.ends = append(t.ends, len(t.text))
}

// sharedStrings reads the shared-string table. Phonetic runs (rPh, the
// furigana Excel stores beside Japanese text) are left out so a name is not
// read twice. The table is capped at twice MaxPartText; strings beyond it
// read as empty.
func (w *walker) sharedStrings(f *zip.File) (sharedTable, error) {
	var out sharedTable
	rc, err := w.openPart(f)
	if err != nil {
		return out, err
	}
	defer rc.Close()
	s := newSheetScanner(rc)
	defer s.release()
	var cur []byte
	budget := 2 * w.lim.MaxPartText
	inSI, inT, inPh := false, false, 0
	for {
		kind, name, _ := s.next()
		switch kind {
		case 0:
			return out, s.err
		case sheetStart:
			switch string(name) {
			case "si":
				inSI, cur = true, cur[:0]
			case "t":
				inT = true
			case "rPh":
				inPh++
			}
		case sheetSelfClose:
			if string(name) == "si" {
				out.add(nil, budget)
			}
		case sheetEnd:
			switch string(name) {
			case "si":
				inSI = false
				out.add(cur, budget)
			case "t":
				inT = false
			case "rPh":
				inPh = max(0, inPh-1)
			}
		case sheetText:
			if inSI && inT && inPh == 0 {
				cur = unescapeXML(cur, name)
			}
		case sheetCDATA:
			if inSI && inT && inPh == 0 {
				cur = append(cur, name...)
			}
		}
	}
}

// sheetRows appends a worksheet's rows: cells in column order separated
// by tabs (empty cells kept so columns line up), one row per line, rows
// with no value skipped.
func (w *walker) sheetRows(f *zip.File, sst *sharedTable, tb *textBuf) error {
	rc, err := w.openPart(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	s := newSheetScanner(rc)
	defer s.release()
	var line, val []byte
	col, cellCol := 0, 0
	var cellType string
	inV, inIS, inPh, inT := false, false, 0, false
	filled := false
	endCell := func() {
		text := cellText(cellType, val, sst)
		if len(text) == 0 {
			col = cellCol
			return
		}
		// keep columns aligned (one tab per column step, capped so a
		// far-away cell cannot blow a line up)
		for range min(cellCol-max(col, 1), 64) {
			line = append(line, '\t')
		}
		line = appendCell(line, text)
		col, filled = cellCol, true
	}
	startCell := func(ref, typ []byte, self bool) {
		cellType = cellTypeName(typ)
		cellCol = colIndex(ref)
		if cellCol <= col {
			cellCol = col + 1
		}
		val = val[:0]
		if self {
			col = cellCol
		} else if v, ok := s.cellValue(); ok {
			if bytes.IndexByte(v, '&') >= 0 {
				val = unescapeXML(val, v)
			} else {
				val = append(val, v...)
			}
			endCell()
		}
	}
	for !tb.full {
		// most tokens of a sheet are cells: their tag is read in one pass
		if ref, typ, self, ok := s.cellTag(); ok {
			startCell(ref, typ, self)
			continue
		}
		kind, name, attrs := s.next()
		switch kind {
		case 0:
			return s.err
		case sheetStart, sheetSelfClose:
			self := kind == sheetSelfClose
			switch string(name) {
			case "row":
				line, col, filled = line[:0], 0, false
			case "c":
				ref, typ := cellAttrs(attrs)
				startCell(ref, typ, self)
			case "v":
				inV = !self
			case "is":
				inIS = !self
			case "t":
				inT = !self
			case "rPh":
				if !self {
					inPh++
				}
			}
		case sheetEnd:
			switch string(name) {
			case "v":
				inV = false
			case "is":
				inIS = false
			case "t":
				inT = false
			case "rPh":
				inPh = max(0, inPh-1)
			case "c":
				endCell()
			case "row":
				if filled {
					tb.write(line)
					tb.byte('\n')
				}
			}
		case sheetText, sheetCDATA:
			if inV || inIS && inT && inPh == 0 {
				if kind == sheetCDATA {
					val = append(val, name...)
				} else {
					val = unescapeXML(val, name)
				}
			}
		}
	}
	return nil
}

// cellTypeName interns the few cell types so a row does not allocate.
func cellTypeName(t []byte) string {
	switch string(t) {
	case "s":
		return "s"
	case "b":
		return "b"
	case "inlineStr":
		return "inlineStr"
	case "str":
		return "str"
	}
	return ""
}

func cellText(typ string, val []byte, sst *sharedTable) []byte {
	switch typ {
	case "s":
		i, err := strconv.Atoi(string(bytes.TrimSpace(val)))
		if err != nil || i < 0 || i >= sst.len() {
			return nil
		}
		return sst.at(i)
	case "b":
		if string(val) == "1" {
			return []byte("TRUE")
		}
		return []byte("FALSE")
	}
	return val
}

// appendCell appends a cell's text with tabs and line breaks turned into
// spaces, so one row stays one line.
func appendCell(line, s []byte) []byte {
	start := len(line)
	line = append(line, s...)
	for i := start; i < len(line); i++ {
		if c := line[i]; c <= '\r' && (c == '\t' || c == '\n' || c == '\r') {
			line[i] = ' '
		}
	}
	return line
}

// colIndex converts the letters of a cell reference ("AB12") to a 1-based
// column number; 0 when absent.
func colIndex(ref []byte) int {
	n := 0
	for i := 0; i < len(ref) && i < 4; i++ {
		c := ref[i]
		if c < 'A' || c > 'Z' {
			break
		}
		n = n*26 + int(c-'A'+1)
	}
	return n
}
