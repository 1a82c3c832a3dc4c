// Package sent keeps a record of every delivered message for a retention
// window (sent.retention, 30 days by default), so that when a wrong mail
// has left the security team knows exactly what left, to whom, and what
// personal data it carried: the envelope and each recipient's next-hop
// reply, a header summary, the inspection report's masked findings, the
// people affected and data items, the attachments' names and SHA-256
// hashes, and the policy decision. The body is kept only with
// sent.keep_body, encrypted at rest (body.go).
//
// It also holds the incident kit's state (incident.go): deletion requests
// sent to the original recipients, each with a single-use, hashed,
// expiring confirm token, and who confirmed when.
//
// Invariants: a record is written in the transaction that records a
// delivery attempt that reached at least one recipient (PutTx), rewritten
// by later attempts, with its attachment hashes
// computed before that transaction (Prepare: taken from the inspection's
// report when it vouches for them, else read from the message; the same
// record either way, report_equiv_test.go); keys order records by
// delivery time so find and purge are range scans; a purge deletes a
// record's incident state with it and is audited by the caller.
package sent
