package rewrite

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// AttachmentFile describes one attachment handed to ReplaceOptions.Store.
type AttachmentFile struct {
	// Name is the name EncryptAttachments would give the file in its zip:
	// sanitised (aeszip.SanitizeName), unique within the message
	// (case-insensitively, "a (2).txt"), attached messages as NAME.eml.
	Name        string
	ContentType string // media type, lower case, without parameters
}

// ReplaceOptions configures ReplaceAttachments.
type ReplaceOptions struct {
	// Store receives each attachment's decoded bytes, streamed, in message
	// order. It must read r to the end before returning (r is not valid
	// afterwards); an error aborts the rewrite. A read error from r (a
	// corrupt attachment) wraps ErrMalformed.
	Store func(f AttachmentFile, r io.Reader) error
	// TempDir holds the spooled kept parts; empty means os.TempDir().
	TempDir string
	// Rand draws the boundary of a message turned into multipart/mixed;
	// nil means crypto/rand. Only tests set it.
	Rand io.Reader
}

// errClosed is returned by Replaced.Write after Close.
var errClosed = errors.New("rewrite: replaced message already closed")

// ReplaceAttachments reads src once: every attachment goes to opt.Store
// and every kept part is spooled to a temporary file, so that the
// rewritten message can then be written any number of times, each with its
// own note (Replaced.Write): one copy per recipient, each carrying its own
// download link.
//
// What counts as an attachment, the refusals (ErrSignedOrEncrypted,
// ErrMalformed, ErrUnknownEncoding) and ErrNoAttachments are exactly those
// of EncryptAttachments, and the written message is the one
// EncryptAttachments writes without its zip part: same top header, same
// kept parts byte for byte, the note first.
//
// Store runs while src is read, so it may have received files of a message
// that then fails (a later part malformed, Store itself failing): on any
// error the caller discards whatever Store kept. Store is not called again
// after it fails, and the error wraps Store's. A Store that returns nil
// before reading its attachment to the end is an error too: the stored
// copy would be truncated.
//
// The caller must Close the result to remove the temporary file.
func ReplaceAttachments(src io.Reader, opt ReplaceOptions) (*Replaced, error) {
	if opt.Store == nil {
		return nil, errors.New("rewrite: ReplaceOptions.Store is nil")
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	rw, err := newRewriter(&storeSink{store: opt.Store, used: map[string]struct{}{}}, opt.Rand, opt.TempDir)
	if err != nil {
		return nil, err
	}
	if err := rw.read(src); err != nil {
		rw.close()
		return nil, err
	}
	if len(rw.files) == 0 {
		rw.close()
		return nil, ErrNoAttachments
	}
	return &Replaced{rw: rw}, nil
}

// Replaced is a parsed message whose attachments went to the store. Write
// may run concurrently from several goroutines; Close must not run
// concurrently with Write.
type Replaced struct {
	rw     *rewriter
	mu     sync.RWMutex
	closed bool
}

// Files returns the name, type and decoded size of each attachment handed
// to Store, in message order.
func (r *Replaced) Files() []ZippedFile {
	return append([]ZippedFile(nil), r.rw.files...)
}

// Write writes the whole rewritten message to dst with note as its first
// part: text/plain; charset=UTF-8, base64, where EncryptAttachments puts
// its note. The note's line endings become the message's. The spooled
// parts stay, so Write can be called any number of times. If writing to
// dst fails, dst must be discarded.
func (r *Replaced) Write(dst io.Writer, note string) error {
	if !utf8.ValidString(note) {
		return errors.New("rewrite: note is not valid UTF-8")
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return errClosed
	}
	return r.rw.write(dst, withEOL(note, r.rw.top.eol), nil)
}

// Close removes the temporary file. It is safe to call more than once.
func (r *Replaced) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.rw.close()
	}
	return nil
}

// withEOL gives every line of s the ending eol.
func withEOL(s, eol string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if eol == "\n" {
		return s
	}
	return strings.ReplaceAll(s, "\n", eol)
}

// storeSink hands attachments to ReplaceOptions.Store under the names the
// zip would give them.
type storeSink struct {
	store func(AttachmentFile, io.Reader) error
	used  map[string]struct{}
}

func (s *storeSink) put(name, contentType string, r io.Reader) (string, error) {
	used := aeszip.UniqueName(aeszip.SanitizeName(name), s.used)
	if err := s.store(AttachmentFile{Name: used, ContentType: contentType}, r); err != nil {
		return "", fmt.Errorf("rewrite: store: %w", err)
	}
	var b [1]byte
	switch n, err := io.ReadFull(r, b[:]); {
	case n > 0:
		return "", errors.New("rewrite: store returned before the end of the attachment")
	case err != io.EOF:
		return "", err // the body failed after Store stopped reading
	}
	return used, nil
}
