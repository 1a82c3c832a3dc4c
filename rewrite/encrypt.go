package rewrite

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/rules"

	"github.com/sendguard/sendguard/internal/spillbuf"
)

// EncryptOptions configures EncryptAttachments.
type EncryptOptions struct {
	// Password protects the zip (generate it with crypto/password).
	Password string
	// PasswordDelivery defaults to rules.PasswordSender.
	PasswordDelivery rules.PasswordDelivery
	// Zip passes encryption, name encoding, level, temp dir and logger to
	// crypto/aeszip; its Password field is ignored (Password is used).
	Zip aeszip.Options
	// Modified stamps the zip entries; zero means time.Now().
	Modified time.Time
	// Language leads the bilingual note that replaces the attachments
	// (config default_language); "" means Japanese first.
	Language string
	// Rand draws the boundary of a message turned into multipart/mixed;
	// nil means crypto/rand. Only tests set it.
	Rand io.Reader
}

// ZippedFile is one attachment put into the zip.
type ZippedFile struct {
	Name        string `json:"name"` // entry name in the zip
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"` // decoded bytes
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
	if err := e.rw.read(src); err != nil {
		return EncryptResult{}, err
	}
	if len(e.rw.files) == 0 {
		return EncryptResult{}, ErrNoAttachments
	}
	if err := e.finishZip(); err != nil {
		return EncryptResult{}, err
	}
	zip := &trailingPart{header: zipPartHeader(e.res.ZipName, e.rw.top.eol), body: e.zipFile}
	if err := e.rw.write(dst, e.note(), zip); err != nil {
		return EncryptResult{}, err
	}
	return e.res, nil
}

// encrypter is the zip sink of one EncryptAttachments call: the archive is
// built in a temp file while the rewriter parses.
type encrypter struct {
	opt     EncryptOptions
	rw      *rewriter
	zipFile *spillbuf.Buffer
	zw      *aeszip.Writer
	// zipClosed is set once zw.Close ran (finishZip).
	zipClosed bool
	res       EncryptResult
}

func newEncrypter(opt EncryptOptions) (*encrypter, error) {
	switch opt.PasswordDelivery {
	case "":
		opt.PasswordDelivery = rules.PasswordSender
	case rules.PasswordSender, rules.PasswordRecipient, rules.PasswordPreset:
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
	if e.rw, err = newRewriter(e, opt.Rand, zo.TempDir); err != nil {
		return nil, err
	}
	e.zipFile = spillbuf.New(zo.TempDir, "zip")
	if e.zw, err = aeszip.NewWriter(e.zipFile, zo); err != nil {
		e.rw.close()
		e.zipFile.Close()
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	return e, nil
}

// put adds one attachment to the zip (fileSink).
func (e *encrypter) put(name, _ string, r io.Reader) (string, error) {
	return e.zw.Add(name, e.opt.Modified, r)
}

// cleanup releases the temporary files.
func (e *encrypter) cleanup() {
	if !e.zipClosed {
		_ = e.zw.Close() // releases its temp file; the archive is discarded
	}
	e.rw.close()
	e.zipFile.Close()
}
