package extract

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// The sent record (package sent) lists the files of a delivered message
// as go-message reads it: every part of the top-level MIME tree that names
// a file (attached messages are not opened), with its media type and the
// SHA-256 and size of its body as go-message decodes it. The walk hashes
// those files as it reads them (Attachment.SHA256) when its own reading is
// provably the same, and sets Message.AttachmentsHashed when every such
// file got a hash; anything it cannot vouch for leaves the flag unset, and
// the sent record reads the message again.

// hashFiles is unset only by benchmarks, to measure the walk without
// the hashes in the same run.
var hashFiles = true

// FileName is the name a part gives its file as go-message reads the
// header: Content-Disposition's filename, else Content-Type's name (RFC
// 2047 words decoded once more; charsets through go-message/charset,
// which this package imports). "" means the part names no file. The sent
// record and this walk both use it, so they cannot disagree on it.
func FileName(h message.Header) string {
	if _, p, err := h.ContentDisposition(); err == nil && p["filename"] != "" {
		return p["filename"]
	}
	if _, p, err := h.ContentType(); err == nil && p["name"] != "" {
		return decodeWordStd(p["name"])
	}
	return ""
}

func decodeWordStd(s string) string {
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// stdPart is one entity of the top-level MIME tree as go-message reads
// its header.
type stdPart struct {
	name      string // FileName
	mt        string // media type; the raw value when it does not parse
	multipart bool
	boundary  string
	// decodable: go-message's decoding of the body is this walk's
	// transfer decoding (no charset conversion, an identity or base64
	// encoding); base64 then also needs clean input (base64Reader.clean).
	decodable bool
	base64    bool
}

func readStdPart(th textproto.Header) stdPart {
	h := message.Header{Header: th}
	mt, params, _ := h.ContentType()
	s := stdPart{name: FileName(h), mt: mt, multipart: strings.HasPrefix(mt, "multipart/"), boundary: params["boundary"]}
	// message.New: the transfer encoding by its exact (case-folded)
	// name, and a text/* charset other than UTF-8 and ASCII converted.
	switch strings.ToLower(th.Get("Content-Transfer-Encoding")) {
	case "", "7bit", "8bit", "binary":
		s.decodable = true
	case "base64":
		s.decodable, s.base64 = true, true
	}
	if cs, ok := params["charset"]; ok && strings.HasPrefix(mt, "text/") {
		if l := strings.ToLower(cs); l != "utf-8" && l != "us-ascii" {
			s.decodable = false
		}
	}
	return s
}

// stdHash follows one named part's body as it is read.
type stdHash struct {
	h   hash.Hash
	eof bool          // the body was read to its end without error
	b64 *base64Reader // nil for an identity encoding
}

// sum is the hex SHA-256 of the body, or "" when the walk's reading is
// not go-message's: not read to the end, corrupt or unusual base64.
func (s *stdHash) sum() string {
	if !s.eof || s.b64 != nil && !s.b64.clean() {
		return ""
	}
	return hex.EncodeToString(s.h.Sum(nil))
}

func newStdHash() *stdHash { return &stdHash{h: sha256.New()} }

// notHashed records that a file the sent record lists has no hash here.
func (w *walker) notHashed() { w.stdMiss = true }

// repeatsContentFields reports a header that gives a Content-* field the
// entity is read by more than once. readHeader rebuilds a header field by
// field, and in the rebuilt one Get returns the last of several fields of
// a name where go-message's returns the first.
func repeatsContentFields(h textproto.Header) bool {
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Transfer-Encoding"} {
		if len(h.Values(k)) > 1 {
			return true
		}
	}
	return false
}
