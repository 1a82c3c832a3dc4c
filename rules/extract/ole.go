package extract

import (
	"strings"

	"github.com/richardlehane/mscfb"

	"github.com/sendguard/sendguard/rules"
)

// oleFile handles a CDFV2 (OLE compound) file: an encrypted OOXML document
// (an EncryptedPackage stream, what Office writes for "protect with
// password"), or a legacy .doc/.xls/.ppt/.msg, which are not read.
func (w *walker) oleFile(att *rules.Attachment, sp *spilled) result {
	doc, err := mscfb.New(sp)
	if err != nil {
		return unscannablef("corrupt OLE compound file: %s", shortErr(err))
	}
	var names []string
	for e, err := doc.Next(); err == nil && len(names) < 1000; e, err = doc.Next() {
		names = append(names, e.Name)
	}
	for _, n := range names {
		if n == "EncryptedPackage" || n == "EncryptionInfo" {
			att.Encrypted = true
			return result{unscannable: "encrypted Office document"}
		}
	}
	switch {
	case has(names, "WordDocument"):
		return unscannablef("legacy Word document (.doc) not read")
	case has(names, "Workbook") || has(names, "Book"):
		if has(names, "FilePass") {
			att.Encrypted = true
		}
		return unscannablef("legacy Excel workbook (.xls) not read")
	case has(names, "PowerPoint Document"):
		return unscannablef("legacy PowerPoint presentation (.ppt) not read")
	case hasPrefix(names, "__substg1.0_"):
		return unscannablef("Outlook message (.msg) not read")
	}
	return unscannablef("OLE compound file (%s) not read", att.Type)
}

func has(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

func hasPrefix(names []string, p string) bool {
	for _, x := range names {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}
