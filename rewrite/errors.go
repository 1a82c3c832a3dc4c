package rewrite

import (
	"errors"
	"fmt"
)

// Errors. Unless a function's documentation says otherwise, an error means
// dst must be discarded.
var (
	// ErrMalformed means the message's structure cannot be rewritten
	// faithfully (broken header, missing boundary, unterminated multipart).
	ErrMalformed = errors.New("rewrite: malformed message")
	// ErrHeaderTooLarge means a header block exceeds 1 MiB.
	ErrHeaderTooLarge = errors.New("rewrite: header too large")
	// ErrBadAddress means an address in To or Cc could not be parsed.
	ErrBadAddress = errors.New("rewrite: unparsable address")
	// ErrFieldKept is returned by Bcc when at least one To/Cc field could
	// not be parsed and was copied unchanged. dst then holds a complete,
	// valid message, but external addresses may still be visible in the
	// fields listed in the FieldError values joined into the error.
	ErrFieldKept = errors.New("rewrite: address field left unchanged")
	// ErrNoAttachments is returned by EncryptAttachments and
	// ReplaceAttachments for a message without attachments; nothing is
	// written to dst.
	ErrNoAttachments = errors.New("rewrite: message has no attachments")
	// ErrSignedOrEncrypted is returned by EncryptAttachments and
	// ReplaceAttachments for a message that is signed or encrypted as a
	// whole (multipart/signed, multipart/encrypted, S/MIME): its
	// attachments cannot be replaced without breaking it. Nothing is
	// written to dst; hold the message.
	ErrSignedOrEncrypted = errors.New("rewrite: message is signed or encrypted")
	// ErrUnknownEncoding means an attachment's Content-Transfer-Encoding is
	// not one the rewriter can decode, so its original bytes are unknown.
	ErrUnknownEncoding = errors.New("rewrite: unknown content-transfer-encoding")
)

// FieldError reports a To or Cc field that Bcc left unchanged. It never
// carries the addresses themselves (they are personal data).
type FieldError struct {
	Field string // field name as written, e.g. "To"
	Index int    // 0-based position of the field in the header
	Err   error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("rewrite: %s field #%d left unchanged: %v", e.Field, e.Index, e.Err)
}

// Unwrap makes errors.Is match both ErrFieldKept and the cause.
func (e *FieldError) Unwrap() []error { return []error{ErrFieldKept, e.Err} }
