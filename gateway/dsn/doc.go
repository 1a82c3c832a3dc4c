// Package dsn builds delivery status notifications (RFC 3464) for mail
// sendguard accepted but could not deliver (Action: failed) or has not
// delivered yet (Action: delayed).
//
// Invariants:
//   - A DSN is sent with the null envelope sender (MAIL FROM:<>), carries
//     Auto-Submitted: auto-replied, and is never sent for a message whose
//     own sender is null or a mailer daemon (ShouldBounce), so two mail
//     systems cannot bounce at each other forever.
//   - Every text taken from outside (addresses, peer replies, host names)
//     is reduced to one line without control characters before it reaches
//     a header or a status field: no header injection.
//   - The returned original is bounded: the headers (up to MaxHeaderBytes),
//     or the whole message when RET=FULL and it fits in MaxFull.
//   - The Subject and the human-readable part come from the one catalog
//     (templates/i18n, keys mail.dsn.*), Params.Language first; the
//     machine-readable part is the same bytes in every language.
//   - Output is deterministic for given Params (golden-testable); the MIME
//     boundary is checked against the content it encloses.
package dsn
