package rewrite

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
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
// attachments replaced by one encrypted application/zip part (the last
// part of the top-level multipart/mixed) and a short bilingual note
// (Japanese, then English) placed first.
//
// What is an attachment (see classify): in a multipart/mixed (or an
// unknown multipart subtype, which RFC 2046 says to treat as mixed), a leaf
// part that is an attached message, has Content-Disposition: attachment or
// a file name, or is not text. multipart/alternative and multipart/related
// render the body and are searched with a narrower rule: only attached
// messages, parts with disposition attachment and named non-text parts
// count, and images with a Content-ID (inline images the HTML refers to)
// always stay; Apple Mail puts files inside the HTML branch of an
// alternative. Text parts without a file name always stay. An attached
// message (message/rfc822 or message/global) is one attachment, zipped as
// NAME.eml (its file name, else its Subject) without unpacking the
// attachments inside it. Already encrypted archives are wrapped like any
// file. multipart/report is kept whole. A message signed or encrypted as a
// whole (multipart/signed, multipart/encrypted, S/MIME) is refused with
// ErrSignedOrEncrypted.
//
// Faithfulness: when the top level is multipart/mixed, its header is
// copied unchanged (the boundary is reused: base64 lines never contain
// "--") and every kept part's bytes are identical. A container that loses
// some parts keeps its header and the other parts' bytes; one that loses
// all its parts is removed. When the top level is anything else it becomes
// multipart/mixed (new boundary; MIME-Version added if missing): the top
// Content-* fields move to the wrapped alternative/related body, or, for a
// single-part attachment, into the zip with the part.
//
// Nothing is written to dst unless the rewrite succeeds: kept parts and
// the zip are spooled to temporary files first (memory stays bounded). A
// message without attachments returns ErrNoAttachments. If writing to dst
// fails, dst must be discarded.
func EncryptAttachments(dst io.Writer, src io.Reader, opt EncryptOptions) (EncryptResult, error) {
	e, err := newEncrypter(opt)
	if err != nil {
		return EncryptResult{}, err
	}
	defer e.cleanup()
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
	wrap     bool // the top level was not multipart/mixed: a new one is made
	boundary string
	preamble []byte
	kept     *spool
	zipFile  *spool
	zw       *aeszip.Writer
	// zipClosed is set once zw.Close ran (finishZip).
	zipClosed bool
	// closeRest and epilogue follow the top-level close delimiter.
	closeRest, epilogue []byte
	subject             string
	res                 EncryptResult
}

// maxDepth bounds nested multiparts; deeper nesting is refused as
// malformed (real mail stays under 5).
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
	if e.zw, err = aeszip.NewWriter(e.zipFile, zo); err != nil {
		e.kept.close()
		e.zipFile.close()
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	return e, nil
}

// cleanup releases the temporary files.
func (e *encrypter) cleanup() {
	if !e.zipClosed {
		_ = e.zw.Close() // releases its temp file; the archive is discarded
	}
	e.kept.close()
	e.zipFile.close()
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
	p := classify(h, "mixed")
	if p.protected {
		return ErrSignedOrEncrypted
	}
	if p.broken {
		return fmt.Errorf("%w: multipart without a usable boundary", ErrMalformed)
	}
	switch {
	case p.kind == partContainer && p.class == "mixed":
		e.boundary = p.boundary
		s := newPartScanner(br, p.boundary)
		if e.preamble, err = s.preamble(); err != nil {
			return err
		}
		if _, err := e.walk(s, e.kept, 0, true, p.class); err != nil {
			return err
		}
		e.closeRest = s.closeRest
		if e.epilogue, err = s.epilogue(); err != nil {
			return err
		}
		return nil
	case p.kind == partContainer:
		// An alternative or related body: it becomes the second part of a
		// new multipart/mixed, under its own Content-* fields.
		e.wrap = true
		if e.boundary, err = randomBoundary(e.opt.Rand); err != nil {
			return err
		}
		var ch []byte
		for _, f := range h.fields {
			if isContentField(f.name) {
				ch = append(ch, f.raw...)
			}
		}
		ch = append(ch, h.eol...)
		_, err := e.container(e.kept, ch, br, p, 0)
		return err
	case p.kind == partAttachment:
		e.wrap = true
		if e.boundary, err = randomBoundary(e.opt.Rand); err != nil {
			return err
		}
		return e.addFile(h, p, br)
	}
	return ErrNoAttachments
}

func isContentField(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "content-")
}

// walk copies the kept parts of a container to w, each after a
// delimiter, and zips the attachments. class is the container's kind
// ("mixed", "alternative" or "related"), which decides what counts as an
// attachment. It returns the number of parts written to w. lead says
// whether the first delimiter needs the line ending that separates it from
// what precedes it (none after an empty preamble).
func (e *encrypter) walk(s *partScanner, w *spool, depth int, lead bool, class string) (int, error) {
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
		p := classify(ph, class)
		if p.broken {
			return written, fmt.Errorf("part %d: %w: multipart without a usable boundary", s.parts, ErrMalformed)
		}
		if p.kind == partContainer && depth+1 >= maxDepth {
			return written, fmt.Errorf("%w: multiparts nested over %d levels", ErrMalformed, maxDepth)
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
			n, err := e.container(w, ph.bytes(), pbr, p, depth+1)
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

// container writes a multipart entity (header, preamble, kept parts, close
// delimiter, epilogue) to w. It returns the number of parts kept; with none
// the caller removes what was written.
func (e *encrypter) container(w *spool, header []byte, body io.Reader, p partInfo, depth int) (int, error) {
	if _, err := w.Write(header); err != nil {
		return 0, err
	}
	inner := newPartScanner(body, p.boundary)
	pre, err := inner.preamble()
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(pre); err != nil {
		return 0, err
	}
	n, err := e.walk(inner, w, depth, len(pre) > 0, p.class)
	if err != nil || n == 0 {
		return n, err
	}
	epi, err := inner.epilogue()
	if err != nil {
		return n, err
	}
	if err := w.writeString(e.top.eol + "--" + p.boundary + "--"); err != nil {
		return n, err
	}
	if _, err := w.Write(inner.closeRest); err != nil {
		return n, err
	}
	_, err = w.Write(epi)
	return n, err
}

func randomBoundary(r io.Reader) (string, error) {
	var b [15]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("rewrite: draw boundary: %w", err)
	}
	return "sendguard-" + hex.EncodeToString(b[:]), nil
}
