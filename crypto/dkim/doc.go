// Package dkim signs outgoing mail with DKIM (RFC 6376; Ed25519 per
// RFC 8463) at the last hop, after every rewrite sendguard makes.
//
// Invariants:
//   - A Signer is immutable: keys are read and checked once by New, so a
//     reload swaps in a whole new Signer or keeps the old one.
//   - Keys are RSA of at least 2048 bits or Ed25519; anything else, or a
//     key file other users can read, is refused with the file's name.
//   - A message is signed with the domain of its (first) From address, or
//     the closest configured parent domain (DMARC relaxed alignment); a
//     message whose From has no configured domain passes unchanged, and so
//     does one that can never be signed (ErrUnsignable: a header over
//     1 MiB), rather than wait in the queue until it expires.
//   - Signing streams: the message is read twice from its opener (once to
//     hash, once to send, with the DKIM-Signature field in front), so a
//     large body is never held in memory. The opener must return the same
//     bytes each time (spool files are immutable).
//   - An existing signature is left alone: the new field is prepended, so
//     an upstream signature over unchanged content stays valid.
//   - Private key material is never logged or included in errors.
package dkim
