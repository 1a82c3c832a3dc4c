// Package notify builds the notice mails of held messages: the sender's
// confirm request, the approver's request, the review, delay, cancelled,
// rejected, expired and released notices.
//
// A notice is a complete RFC 5322 message with CRLF line ends:
// multipart/alternative with UTF-8 text/plain and text/html, both
// quoted-printable, an RFC 2047 Subject, Auto-Submitted: auto-generated and
// a fresh Message-ID.
//
// Invariants:
//   - Untrusted text (subject, names, file names, reasons) never creates a
//     header: control characters become spaces before any header is written,
//     and the Subject is always RFC 2047-encoded.
//   - The HTML part escapes everything it shows; the held mail's own HTML is
//     never included.
//   - Findings show only their masked samples, never unmasked values.
package notify
