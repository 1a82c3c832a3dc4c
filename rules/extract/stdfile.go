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
	n   int64         // bytes hashed
	// paused: what is read now is hashed later from the copy spill holds
	// (hashSpilled), while the file is parsed.
	paused bool
}

// asyncHashMin is the size from which a spilled file is hashed on a
// goroutine of its own while it is parsed: an 8 MB PDF's SHA-256 (about
// 5 ms) then overlaps its worker instead of preceding it. Below, a
// goroutine's hand-off costs more than it saves.
const asyncHashMin = 1 << 20

// pause makes reading stop hashing and returns how many bytes were hashed
// so far, where the spilled copy's hash resumes (nil: not hashed).
func (s *stdHash) pause() int64 {
	if s == nil {
		return 0
	}
	s.paused = true
	return s.n
}

// resume makes reading hash again.
func (s *stdHash) resume() {
	if s != nil {
		s.paused = false
	}
}

// catchUp hashes c from from on and resumes hashing as read: the spill
// goes on to a file, and the rest is hashed as it is copied there.
func (s *stdHash) catchUp(c *chunks, from int64) {
	if s == nil || !s.paused {
		return
	}
	s.hashFrom(c, from)
	s.resume()
}

// hashFrom hashes c from from on.
func (s *stdHash) hashFrom(c *chunks, from int64) {
	n, _ := (&chunkReader{c: c, off: from}).WriteTo(s.h)
	s.n += n
}

// hashSpilled hashes the file held in c from from on: on a goroutine of
// its own for a large file, at once for a small one. wait must be called
// before c is released or the sum read; it resumes hashing as read.
func (s *stdHash) hashSpilled(c *chunks, from int64) (wait func()) {
	if s == nil || !s.paused {
		return func() {}
	}
	if c.size-from < asyncHashMin || !asyncHash {
		s.hashFrom(c, from)
		s.resume()
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.hashFrom(c, from)
	}()
	return func() {
		<-done
		s.resume()
	}
}

// asyncHash is unset only by benchmarks, to measure the hash before the
// parse in the same run.
var asyncHash = true

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
