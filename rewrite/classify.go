package rewrite

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/sendguard/sendguard/internal/b64"
	"github.com/sendguard/sendguard/internal/filemagic"
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
	class       string // for containers: "mixed", "alternative" or "related"
	boundary    string
	filename    string // decoded, may be empty
	isMessage   bool   // message/rfc822 or message/global
	protected   bool   // signed or encrypted (S/MIME, PGP/MIME)
	broken      bool   // a multipart without a usable boundary
}

// protectedTypes cannot change without breaking a signature or are
// already encrypted end to end: they are kept whole, and a message that is
// one of them is refused (ErrSignedOrEncrypted).
var protectedTypes = map[string]bool{
	"multipart/signed":            true,
	"multipart/encrypted":         true,
	"application/pkcs7-mime":      true,
	"application/x-pkcs7-mime":    true,
	"application/pkcs7-signature": true,
}

// classify decides what happens to a part of a container of the given
// class ("mixed" for the message itself).
//
// In mixed, a leaf is an attachment if it is a message, has disposition
// attachment or a file name, or is not text. In alternative and related,
// which render the body, only messages, parts with disposition attachment
// and named non-text parts are attachments, except images with a
// Content-ID (inline images the HTML refers to): Apple Mail, for one, puts
// files inside the HTML branch of an alternative.
func classify(h *rawHeader, class string) partInfo {
	ct, ctp := parseParams(h.get("Content-Type"))
	if ct == "" || !strings.Contains(ct, "/") {
		ct = "text/plain" // RFC 2045 §5.2 default
	}
	disp, dp := parseParams(h.get("Content-Disposition"))
	p := partInfo{contentType: ct, filename: dp["filename"]}
	if p.filename == "" {
		p.filename = ctp["name"]
	}
	isText := strings.HasPrefix(ct, "text/")
	switch {
	case protectedTypes[ct]:
		p.protected = true // kept whole
	case strings.HasPrefix(ct, "multipart/"):
		b := ctp["boundary"]
		if ct == "multipart/report" {
			return p // kept whole: a report describes the mail itself
		}
		if !usableBoundary(b) || !isToken(strings.TrimPrefix(ct, "multipart/")) {
			// Attachments could hide in it, and readers that cannot parse
			// the type (an empty subtype) would not see our parts: refuse.
			p.broken = true
			return p
		}
		p.kind, p.boundary, p.class = partContainer, b, "mixed" // RFC 2046: unknown subtypes are mixed
		if ct == "multipart/alternative" || ct == "multipart/related" {
			p.class = strings.TrimPrefix(ct, "multipart/")
		}
	case ct == "message/rfc822" || ct == "message/global":
		p.kind, p.isMessage = partAttachment, true
	case disp == "attachment":
		p.kind = partAttachment
	case class == "mixed" && (p.filename != "" || !isText && !strings.HasPrefix(ct, "message/")):
		p.kind = partAttachment
	case class != "mixed" && p.filename != "" && !isText &&
		!(strings.HasPrefix(ct, "image/") && h.get("Content-ID") != ""):
		p.kind = partAttachment
	}
	return p
}

// isToken reports whether s is an RFC 2045 token (a media subtype).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// usableBoundary accepts what RFC 2046 §5.1.1 allows and, leniently,
// longer boundaries (up to 200 bytes) and other printable ASCII, which
// mailers do send: the scanner only needs to find the delimiter lines.
func usableBoundary(b string) bool {
	if len(b) == 0 || len(b) > 200 {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] < 0x20 || b[i] > 0x7e {
			return false
		}
	}
	return true
}

// documentInside returns the type of the file a text leaf holds when its
// body, decoded, begins as one (see internal/filemagic), else "". The
// inspection reads such a part as the file it is (rules/extract), so the
// rewrite treats it as an attachment too: a document pasted into a
// text/plain part must not leave in clear when the mail is encrypted. Only
// the first bytes are peeked; br is not consumed.
func documentInside(h *rawHeader, p partInfo, br *bufio.Reader) string {
	if p.kind != partKept || p.protected || !strings.HasPrefix(p.contentType, "text/") {
		return ""
	}
	// 256 bytes hold the first base64 or quoted-printable lines whole.
	raw, _ := br.Peek(256)
	dec, err := decodeBody(h.get("Content-Transfer-Encoding"), bytes.NewReader(raw))
	if err != nil {
		return "" // an unknown encoding: the part is kept as it is
	}
	if b, ok := dec.(*b64.Reader); ok {
		defer b.Release()
	}
	var head [filemagic.HeadLen]byte
	n, _ := io.ReadFull(dec, head[:])
	return filemagic.Type(head[:n])
}
