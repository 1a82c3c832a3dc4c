// Package link replaces attachments with expiring download links (the
// policy action "link"): the files are taken out of the mail, stored
// encrypted at rest, and served under BASE/d/{token} to a recipient who
// proves control of their own address with a one-time code.
//
// Invariants:
//   - Files are written only through crypto/atrest (a per-file key wrapped
//     by the master key in data_dir/link.key) and fsynced, with their
//     directory, before the package's record commits. No plaintext of an
//     attachment ever reaches the disk.
//   - Each recipient gets their own link token and the sender a revocation
//     token; only the tokens' SHA-256 hashes are stored. A recipient's link
//     is useless without a code mailed to that recipient's address, so a
//     forwarded link gives nothing.
//   - A one-time code (8 digits) is stored only as a salted hash, expires
//     after 10 minutes, allows 5 wrong tries and one successful use. Code
//     requests per link are limited too, so a link cannot be used to flood
//     its recipient.
//   - A download is counted and logged (time, recipient, IP, user agent) in
//     the same transaction that checks the link is still live (not
//     revoked, not expired, under its download limit); the count is taken
//     before the first byte is sent, so an interrupted transfer uses up a
//     download rather than allowing an extra one.
//   - After revocation, expiry or the download limit nothing is served:
//     every request re-checks the record; Purge removes the files (at once
//     for revoked packages, at expiry otherwise) and the records after a
//     retention period.
//   - Pages: GET never changes state; every POST needs the link's CSRF
//     token and a same-origin request. Every response carries a strict CSP
//     without any script. Unknown or malformed tokens are rate-limited per
//     client IP. Raw tokens, codes and keys are never logged.
//
// Storage (buckets prefixed link_ in the gateway's bbolt DB):
//
//	link_packages  id → package JSON (metadata, token hashes, counts)
//	link_tokens    sha256(token) → {package id, role, recipient}
//	link_codes     sha256(recipient token) → code state JSON
//	link_by_msg    lp(message id) ‖ id → nil
//	link_files     deadline(8) ‖ id → nil   (files still on disk)
//	link_expiry    deadline(8) ‖ id → nil   (records to delete)
//	link_log       id ‖ seq(8) → download JSON
//
// Files live in DIR/{id}/{n}, one directory per package.
package link
