// Package recipients analyses who an outbound message goes to.
//
// It parses the To/Cc header values tolerantly (groups, RFC 2047 display
// names in UTF-8/ISO-2022-JP/Shift_JIS/EUC-JP, quoted local parts, comments),
// matches them against the envelope recipients to find Bcc recipients,
// classifies every address as internal or external by the configured
// internal domains, and flags external domains that are new to the
// organisation or that look like an internal or partner domain.
//
// Invariants:
//   - Parsing never fails as a whole: a broken address is reported in
//     Result.Errors and the rest of the list is still analysed.
//   - Fail closed: an envelope recipient is never dropped. One that cannot be
//     parsed, or that a next hop could route elsewhere than its domain ('@',
//     '%' or '!' in the local part, a source route), counts as external;
//     a routed one is also listed as a look-alike ("routed address").
//   - Envelope addresses are parsed with rules/address, the parser delivery
//     routes by: the domain classified is the domain delivered to.
//   - Domains are compared in one canonical form: lower case, IDNA (punycode)
//     A-labels, no trailing dot. Recipient.Address carries that form.
//   - Counts and external domains are about the envelope recipients (who
//     receives this copy); the visible_* counts are about the To/Cc headers
//     (who every recipient can see). When no envelope is given (an offline
//     check of a saved message) the header To/Cc/Bcc addresses stand in for it.
//   - A domain that is, or shares its registrable domain with, an internal or
//     partner domain is never a look-alike.
//   - A domain is first-time unless it, or a parent of it up to its
//     registrable domain, is a partner domain or known to the History.
//
// The package is pure: no network, no clock, no global mutable state. An
// Analyzer is safe for concurrent use if its History is.
package recipients
