package rewrite

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// PasswordDelivery says how the recipient learns the zip password; it
// selects the sentence of the note added to the message.
type PasswordDelivery string

// Password delivery modes.
const (
	// DeliverySender: the sender tells the recipient by another channel.
	DeliverySender PasswordDelivery = "sender"
	// DeliveryRecipient: a separate mail with the password follows.
	DeliveryRecipient PasswordDelivery = "recipient"
	// DeliveryPreset: the password agreed in advance with the recipient's
	// organisation.
	DeliveryPreset PasswordDelivery = "preset"
)

// EncryptOptions configures EncryptAttachments.
type EncryptOptions struct {
	// Password protects the zip (generate it with crypto/password).
	Password string
	// PasswordDelivery defaults to DeliverySender.
	PasswordDelivery PasswordDelivery
	// Zip passes encryption, name encoding, level, temp dir and logger to
	// crypto/aeszip; its Password field is ignored (Password is used).
	Zip aeszip.Options
	// Modified stamps the zip entries; zero means time.Now().
	Modified time.Time
	// Rand draws the boundary of a message turned into multipart/mixed;
	// nil means crypto/rand. Only tests set it.
	Rand io.Reader
}

// ZippedFile is one attachment put into the zip.
type ZippedFile struct {
	Name        string `json:"name"` // entry name in the zip
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`   // decoded bytes
	SHA256      string `json:"sha256"` // hex, of the decoded bytes
}

// EncryptResult reports what EncryptAttachments did.
type EncryptResult struct {
	Files   []ZippedFile `json:"files"`
	ZipName string       `json:"zip_name"`
	ZipSize int64        `json:"zip_size"` // bytes of the zip before base64
	// KeptParts counts the parts left in place (body, alternatives,
	// related images) at every level.
	KeptParts int `json:"kept_parts"`
}

// EncryptAttachments copies the message from src to dst with its
// attachments replaced by one encrypted application/zip part and a short
// bilingual note (Japanese, then English) placed first.
//
// What is an attachment: in a multipart/mixed body (or any multipart
// subtype other than alternative, related, signed, encrypted and report,
// which RFC 2046 says to treat as mixed), a leaf part that has
// Content-Disposition: attachment, or a file name, or a type that is not
// text/*. Nested mixed parts are searched too. multipart/alternative and
// multipart/related are kept whole: they render the body, and inline
// images referenced by Content-ID belong to it. Signed and encrypted
// multiparts are kept whole as well (their parts cannot change). An
// attached message (message/rfc822 or message/global) is one attachment,
// zipped as NAME.eml without unpacking the attachments inside it. A
// single-part message is an attachment if its type is not text/* or it has
// a file name or attachment disposition; it then becomes multipart/mixed.
//
// Faithfulness: when the top level is already multipart, its header is
// copied unchanged (the boundary is reused: base64 lines never contain
// "--") and every kept part's bytes are identical; nested containers keep
// their header and kept parts. A single-part message loses its Content-*
// fields (they described the attachment, now in the zip) and gets a
// multipart/mixed Content-Type (and MIME-Version if missing).
//
// Nothing is written to dst unless the rewrite succeeds: the input is
// spooled to temporary files first. A message without attachments returns
// ErrNoAttachments.
func EncryptAttachments(dst io.Writer, src io.Reader, opt EncryptOptions) (EncryptResult, error) {
	e, err := newEncrypter(opt)
	if err != nil {
		return EncryptResult{}, err
	}
	defer e.close()
	if err := e.read(src); err != nil {
		return EncryptResult{}, err
	}
	if len(e.res.Files) == 0 {
		return EncryptResult{}, ErrNoAttachments
	}
	if err := e.finishZip(); err != nil {
		return EncryptResult{}, err
	}
	if err := e.write(dst); err != nil {
		return EncryptResult{}, err
	}
	return e.res, nil
}

// encrypter holds one rewrite's state: the kept parts spooled to a temp
// file, the zip being built in another, and the top-level pieces.
type encrypter struct {
	opt      EncryptOptions
	top      *rawHeader
	single   bool // top level was a single part
	boundary string
	preamble []byte
	close    func()
	kept     *spool
	zipFile  *spool
	zw       *aeszip.Writer
	// closeRest and epilogue follow the top-level close delimiter.
	closeRest, epilogue []byte
	subject             string
	res                 EncryptResult
}

// maxDepth bounds nested multiparts searched for attachments; deeper
// containers are kept whole.
const maxDepth = 16

func newEncrypter(opt EncryptOptions) (*encrypter, error) {
	switch opt.PasswordDelivery {
	case "":
		opt.PasswordDelivery = DeliverySender
	case DeliverySender, DeliveryRecipient, DeliveryPreset:
	default:
		return nil, fmt.Errorf("rewrite: unknown password delivery %q", opt.PasswordDelivery)
	}
	if opt.Modified.IsZero() {
		opt.Modified = time.Now()
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	zo := opt.Zip
	zo.Password = opt.Password
	e := &encrypter{opt: opt}
	var err error
	if e.kept, err = newSpool(zo.TempDir); err != nil {
		return nil, err
	}
	if e.zipFile, err = newSpool(zo.TempDir); err != nil {
		e.kept.close()
		return nil, err
	}
	e.close = func() {
		e.kept.close()
		e.zipFile.close()
	}
	if e.zw, err = aeszip.NewWriter(e.zipFile, zo); err != nil {
		e.close()
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	return e, nil
}

// read parses src, spooling kept parts and zipping attachments.
func (e *encrypter) read(src io.Reader) error {
	br := bufio.NewReaderSize(src, bufSize)
	h, err := readRawHeader(br)
	if err != nil {
		return err
	}
	e.top = h
	e.subject = decodeWords(h.get("Subject"))
	p := classify(h)
	switch p.kind {
	case partContainer:
		e.boundary = p.boundary
		s := newPartScanner(br, p.boundary)
		if e.preamble, err = s.preamble(); err != nil {
			return err
		}
		if _, err := e.walk(s, e.kept, 0, true); err != nil {
			return err
		}
		e.closeRest = s.closeRest
		if e.epilogue, err = s.epilogue(); err != nil {
			return err
		}
	case partAttachment:
		e.single = true
		b, err := randomBoundary(e.opt.Rand)
		if err != nil {
			return err
		}
		e.boundary = b
		if err := e.addFile(h, p, br); err != nil {
			return err
		}
	default:
		return ErrNoAttachments
	}
	return nil
}

// walk copies the kept parts of a mixed container to w, each after a
// delimiter, and zips the attachments. It returns the number of parts
// written to w. lead says whether the first delimiter needs the line
// ending that separates it from what precedes it (none after an empty
// preamble).
func (e *encrypter) walk(s *partScanner, w *spool, depth int, lead bool) (int, error) {
	written := 0
	eol := e.top.eol
	delim := func() error {
		d := "--" + string(s.dash[2:]) + eol
		if written > 0 || lead {
			d = eol + d
		}
		return w.writeString(d)
	}
	for {
		ok, err := s.next()
		if err != nil {
			return written, err
		}
		if !ok {
			return written, nil
		}
		pbr := bufio.NewReaderSize(s, 4<<10)
		ph, err := readRawHeader(pbr)
		if err != nil {
			return written, fmt.Errorf("part %d: %w", s.parts, err)
		}
		p := classify(ph)
		if p.kind == partContainer && depth+1 >= maxDepth {
			p.kind = partKept
		}
		switch p.kind {
		case partAttachment:
			if err := e.addFile(ph, p, pbr); err != nil {
				return written, err
			}
		case partContainer:
			mark := w.size()
			if err := delim(); err != nil {
				return written, err
			}
			if _, err := w.Write(ph.bytes()); err != nil {
				return written, err
			}
			inner := newPartScanner(pbr, p.boundary)
			pre, err := inner.preamble()
			if err != nil {
				return written, err
			}
			if _, err := w.Write(pre); err != nil {
				return written, err
			}
			n, err := e.walk(inner, w, depth+1, len(pre) > 0)
			if err != nil {
				return written, err
			}
			if n == 0 {
				// Every part was an attachment: an empty multipart is
				// invalid, so the container goes too.
				if err := w.truncate(mark); err != nil {
					return written, err
				}
				continue
			}
			epi, err := inner.epilogue()
			if err != nil {
				return written, err
			}
			if err := w.writeString(eol + "--" + p.boundary + "--"); err != nil {
				return written, err
			}
			if _, err := w.Write(inner.closeRest); err != nil {
				return written, err
			}
			if _, err := w.Write(epi); err != nil {
				return written, err
			}
			written++
		default:
			if err := delim(); err != nil {
				return written, err
			}
			if _, err := w.Write(ph.bytes()); err != nil {
				return written, err
			}
			if _, err := io.Copy(w, pbr); err != nil {
				return written, fmt.Errorf("copy part %d: %w", s.parts, err)
			}
			e.res.KeptParts++
			written++
		}
	}
}

func randomBoundary(r io.Reader) (string, error) {
	var b [15]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("rewrite: draw boundary: %w", err)
	}
	return "sendguard-" + hex.EncodeToString(b[:]), nil
}

// spool is a temporary file written through a buffer that can be cut back
// to an earlier size. The file is unlinked at once where the OS allows.
type spool struct {
	f    *os.File
	path string // set only if unlinking failed
	bw   *bufio.Writer
	n    int64
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "sendguard-rewrite-*")
	if err != nil {
		return nil, fmt.Errorf("rewrite: create temp file: %w", err)
	}
	s := &spool{f: f, bw: bufio.NewWriterSize(f, bufSize)}
	if err := os.Remove(f.Name()); err != nil {
		s.path = f.Name()
	}
	return s, nil
}

func (s *spool) Write(p []byte) (int, error) {
	n, err := s.bw.Write(p)
	s.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("rewrite: write temp file: %w", err)
	}
	return n, nil
}

func (s *spool) writeString(v string) error {
	_, err := io.WriteString(s, v)
	return err
}

func (s *spool) size() int64 { return s.n }

func (s *spool) truncate(n int64) error {
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("rewrite: flush temp file: %w", err)
	}
	if err := s.f.Truncate(n); err != nil {
		return fmt.Errorf("rewrite: truncate temp file: %w", err)
	}
	if _, err := s.f.Seek(n, io.SeekStart); err != nil {
		return fmt.Errorf("rewrite: seek temp file: %w", err)
	}
	s.n = n
	return nil
}

// reader flushes the spool and returns a reader over its whole content.
func (s *spool) reader() (io.Reader, error) {
	if err := s.bw.Flush(); err != nil {
		return nil, fmt.Errorf("rewrite: flush temp file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewrite: rewind temp file: %w", err)
	}
	return io.LimitReader(s.f, s.n), nil
}

func (s *spool) close() {
	_ = s.f.Close()
	if s.path != "" {
		_ = os.Remove(s.path)
	}
}
