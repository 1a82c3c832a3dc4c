package extract

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
)

// maxPropertiesText caps the properties text of one document: titles and
// labels are short, and a crafted package must not make them a second body.
const maxPropertiesText = 64 << 10

// Document properties people write or that carry a classification label.
// Author and editor names are left out: they name the sender's colleagues,
// not the content.
var (
	// docProps/core.xml (Dublin Core and OPC core properties).
	coreProps = map[string]bool{"title": true, "subject": true, "keywords": true, "description": true,
		"category": true, "contentStatus": true}
	// docProps/app.xml: the company, the manager and the titles of parts
	// (sheet names, slide titles, document headings).
	appProps = map[string]bool{"Company": true, "Manager": true, "TitlesOfParts": true}
)

// docProperties returns the human-written properties of an OOXML package,
// one per line: core and app properties, sensitivity labels from custom
// properties (MSIP_Label_*_Name, "Classification"), and for a workbook its
// sheet names. Problems are recorded, never returned: the document's text is
// read whatever happens here.
func (w *walker) docProperties(loc string, zr *zip.Reader, kind string) []byte {
	idx := zipIndex(zr)
	tb := &textBuf{max: maxPropertiesText}
	read := func(name string, keep func(path []string) bool) {
		f := idx[name]
		if f == nil {
			return
		}
		if err := w.propertyText(f, keep, tb); err != nil {
			var le *limitError
			if !errors.As(err, &le) {
				w.errorf(loc, "%s: %s", name, shortErr(err))
			}
		}
	}
	read("docProps/core.xml", func(path []string) bool { return len(path) == 2 && coreProps[path[1]] })
	read("docProps/app.xml", func(path []string) bool { return len(path) >= 2 && appProps[path[1]] })
	read("docProps/custom.xml", nil)
	if kind == "xlsx" {
		if f := idx["xl/workbook.xml"]; f != nil {
			_ = w.eachStart(f, func(s *xmlScanner) {
				if string(s.name) == "sheet" {
					tb.write(s.attr("name"))
					tb.newline()
				}
			})
		}
	}
	return bytes.Clone(tb.bytes())
}

// propertyText appends the text of the elements keep accepts (given the
// path of local element names from the root), one element per line. A nil
// keep selects custom properties whose name marks a classification.
func (w *walker) propertyText(f *zip.File, keep func(path []string) bool, tb *textBuf) error {
	rc, err := w.openPart(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	s := newXMLScanner(rc)
	defer s.release()
	var path []string
	label := false // inside a custom property that names a label
	for !tb.full {
		if err := s.next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch s.kind {
		case tokStart:
			if len(path) >= 16 {
				return nil // no property nests this deep
			}
			path = append(path, string(s.name))
			if keep == nil && len(path) == 2 && path[1] == "property" {
				label = isLabelProperty(string(s.attr("name")))
			}
		case tokEnd:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
			tb.newline()
		case tokText:
			if len(path) == 0 || len(bytes.TrimSpace(s.text)) == 0 {
				continue
			}
			if keep == nil && label || keep != nil && keep(path) {
				tb.write(s.text)
			}
		}
	}
	return nil
}

// isLabelProperty recognises custom properties that carry a sensitivity or
// classification label: Microsoft Purview's MSIP_Label_<guid>_Name and the
// "Classification"/"Sensitivity" properties other labelling tools write.
func isLabelProperty(name string) bool {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "msip_label_") {
		return strings.HasSuffix(n, "_name")
	}
	return strings.Contains(n, "classification") || strings.Contains(n, "sensitivity") || strings.Contains(n, "機密")
}
