// Package gateway is sendguard's mail pipeline. Its subpackages are the
// stages a message passes through, in order:
//
//   - front: the SMTP server, a thin adapter: protocol, limits, hygiene,
//     AUTH; it maps the intake's typed outcome to a reply code.
//   - intake: one message's transaction, spool → inspect → decide →
//     persist (Start, AddRcpt, Body, Commit, Abort), nothing kept before
//     Commit.
//   - disposition: decision → plan → apply; the policy verdict, holds'
//     notices, and the Bcc → link → encrypt rewrites run as durable steps.
//   - delivery: the runner that hands queued mail to the next hop
//     (outbound), with bounces and delay notices (dsn).
//   - adminapi: the queue operations on the admin socket (sendguard queue,
//     reload, debug pprof).
//
// This package holds only what the stages share: the SMTP envelope, the
// metrics and the message log line. The message's durable state belongs
// to package queue.
package gateway
