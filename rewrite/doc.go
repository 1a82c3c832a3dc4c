// Package rewrite changes an outbound message before delivery when the
// policy says so: Bcc moves external recipients out of To and Cc,
// EncryptAttachments replaces the attachments with one password-protected
// zip (crypto/aeszip), and ReplaceAttachments hands them to a store and
// writes the message once per recipient, each copy with its own note (the
// download link). The last two share one parser, classifier and writer, so
// they agree on what an attachment is and on every kept byte.
//
// Invariants:
//   - Byte-faithful: header fields and MIME parts that a rewrite does not
//     change are copied byte for byte (line endings, folding, charsets and
//     transfer encodings included). Only the fields and parts named in each
//     function's documentation change.
//   - Streaming: memory does not grow with message or attachment size. A
//     header block is held in memory up to 1 MiB; bodies are streamed, and
//     EncryptAttachments and ReplaceAttachments spool through memory up to
//     512 KiB per spool, then temporary files.
//   - The output is valid MIME that go-message and enmime both parse.
//   - Errors never carry addresses, file names or other message content.
//   - Neither function touches the envelope: the caller keeps RCPT TO.
package rewrite
