// Package rewrite changes an outbound message before delivery when the
// policy says so: Bcc moves external recipients out of To and Cc, and
// EncryptAttachments replaces the attachments with one password-protected
// zip (crypto/aeszip).
//
// Invariants:
//   - Byte-faithful: header fields and MIME parts that a rewrite does not
//     change are copied byte for byte (line endings, folding, charsets and
//     transfer encodings included). Only the fields and parts named in each
//     function's documentation change.
//   - Streaming: memory does not grow with message or attachment size. A
//     header block is held in memory up to 1 MiB; bodies are streamed, and
//     EncryptAttachments spools through temporary files.
//   - The output is valid MIME that go-message and enmime both parse.
//   - Errors never carry addresses, file names or other message content.
//   - Neither function touches the envelope: the caller keeps RCPT TO.
package rewrite
