// Package outbound performs one delivery attempt of a spooled message to the
// next hop: a configured smarthost or, in "mx" mode, each recipient domain's
// MX hosts (RFC 5321 §5.1).
//
// Invariants:
//   - Every recipient passed to Deliver gets exactly one RcptResult, in the
//     order given; a result is either Delivered, Temporary (retry later) or
//     permanent (bounce). Anything unknown is Temporary: nothing is lost.
//   - The body is streamed from the BodyFunc; it is never held in memory.
//     If reading it fails mid-transfer, the connection is dropped without
//     the terminating dot, so a truncated message is never delivered.
//   - With TLS "required" nothing but EHLO and STARTTLS is ever sent in
//     clear; credentials are only sent over TLS unless explicitly allowed.
//   - At most MaxConnsPerDest connections (busy plus idle) are open to a
//     destination at any time.
//   - A refused session (5xx greeting, failed AUTH, a next hop greeting
//     with our own name) defers rather than bounces: it says nothing about
//     the recipients, and a broken smarthost must not bounce all mail.
//   - A pooled connection is only reused after it answers RSET, or, when
//     its last transaction ended with the reply to the data (or an RSET)
//     and it was idle at most peekMaxIdle, after a look at its socket
//     (Linux) finds it open with nothing unread. A MAIL on a reused
//     connection that finds the peer gone (no reply, or 421) is retried
//     once on a new connection and records nothing: no data was sent.
//   - Recipients are parsed with rules/address, the parser the analysis
//     uses: in mx mode they are routed to its ASCIIDomain, and RCPT TO
//     carries its wire form (a quoted local part stays quoted). A non-ASCII
//     address goes only to a peer that offers SMTPUTF8, else it fails
//     permanently (an internationalised domain with an ASCII local part is
//     sent as A-labels instead).
//   - Bodies and passwords are never logged, nor are recipient addresses
//     (only destinations and counts).
package outbound
