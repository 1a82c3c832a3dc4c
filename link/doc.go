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
//     without any script; downloads are served as attachments with
//     nosniff and a sandbox CSP. Unknown or malformed tokens and wrong
//     codes are rate-limited per client IP. The download session is an
//     HttpOnly, SameSite=Strict cookie scoped to the link's path and
//     MAC-bound to its token. Raw tokens, codes and keys are never logged.
//
// Using it: the gateway loads the key with LoadOrCreateKey(data_dir/link.key),
// makes the Store with New on its bbolt DB (passing the hold store as
// Auditor) and runs Store.Run for purging. For a message whose policy says
// "link", the rewriter streams the attachments into Store.Create, puts
// NoteText (with Handler.NoteLinks) where they were, and the sender gets
// SenderNoteText with Handler.RevokeLink. The Handler is mounted at
// Handler.Prefix() (BASE/d/) on web.listen; its Mailer queues the code
// mails as notices.
//
// Downloads are whole files (no Range requests): each request is one
// counted download, so a resumable download manager cannot multiply the
// limit.
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
//
// That is Store, one node's. Storage is the contract the pages, the link
// action and the incident kit use; link/linkpg implements it on
// PostgreSQL for a cluster (storage.driver: postgres), and link/linktest
// is the conformance suite both pass.
package link
