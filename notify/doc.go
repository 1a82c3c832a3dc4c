// Package notify renders the notices sendguard sends about mail it
// holds or rewrites: the sender's confirm request, the approver's request,
// the review, delay, cancelled, rejected, expired and released notices
// (Build), the password notice (Password) and the download-link notice
// (Text).
//
// Every notice is written by notify/compose, the one writer of
// sendguard's own mail, from the one catalog (templates/i18n) with its one
// language rule: the reader's language when known, else every language
// with default_language first.
//
// Invariants:
//   - Renderers take plain views (Notice, PasswordNotice, TextNotice);
//     notify does not import the hold store or the policy (the Summary
//     view in templates still borrows some of their types).
//   - Untrusted text (subject, names, file names, reasons) never creates a
//     header: control characters become spaces before any header is written,
//     and the Subject is always RFC 2047-encoded.
//   - The HTML part escapes everything it shows; the held mail's own HTML is
//     never included.
//   - Findings show only their masked samples, never unmasked values.
package notify
