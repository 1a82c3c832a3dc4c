package rewrite

import (
	"strings"
)

type partKind int

const (
	partKept partKind = iota
	partAttachment
	partContainer // a mixed-like multipart searched for attachments
)

// partInfo is what classify learned from a part header.
type partInfo struct {
	kind        partKind
	contentType string
	boundary    string
	filename    string // decoded, may be empty
	isMessage   bool   // message/rfc822 or message/global
}

// opaque multipart subtypes are kept whole: see EncryptAttachments.
var opaqueMultipart = map[string]bool{
	"multipart/alternative": true,
	"multipart/related":     true,
	"multipart/signed":      true,
	"multipart/encrypted":   true,
	"multipart/report":      true,
}

// classify decides what happens to a part (the same rule applies to the
// message itself).
func classify(h *rawHeader) partInfo {
	ct, ctp := parseParams(h.get("Content-Type"))
	if ct == "" || !strings.Contains(ct, "/") {
		ct = "text/plain" // RFC 2045 §5.2 default
	}
	disp, dp := parseParams(h.get("Content-Disposition"))
	p := partInfo{contentType: ct, filename: dp["filename"]}
	if p.filename == "" {
		p.filename = ctp["name"]
	}
	switch {
	case strings.HasPrefix(ct, "multipart/"):
		if b := ctp["boundary"]; b != "" && !opaqueMultipart[ct] && validBoundary(b) {
			p.kind, p.boundary = partContainer, b
		}
		return p // kept whole otherwise
	case ct == "message/rfc822" || ct == "message/global":
		p.kind, p.isMessage = partAttachment, true
	case disp == "attachment", p.filename != "":
		p.kind = partAttachment
	case strings.HasPrefix(ct, "text/"):
		p.kind = partKept
	case strings.HasPrefix(ct, "message/"):
		p.kind = partKept // delivery-status and the like describe the mail itself
	default:
		p.kind = partAttachment
	}
	return p
}

// validBoundary checks RFC 2046 §5.1.1: 1 to 70 characters of bchars, not
// ending in a space.
func validBoundary(b string) bool {
	if len(b) == 0 || len(b) > 70 || b[len(b)-1] == ' ' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("'()+_,-./:=? ", rune(c)) {
			return false
		}
	}
	return true
}
