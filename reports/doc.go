// Package reports keeps a compact analysis report of every accepted message
// for a retention window, so that a candidate policy can be replayed over
// past traffic (Replay) and shadow rules' matches can be counted.
//
// A stored report is what the policy needs, not what the message said: no
// body, no subject, no detector values or masked samples, no file names,
// no recipient local parts, no error texts. Decode turns it back into a
// rules.Report in which those are placeholders (see ToRules), so rules over
// counts, domains, detectors, locations' kinds, attachment facts, the
// sender and the size evaluate as they did live.
//
// Outcomes reads the other half of a rule's record from the hold audit
// log: what became of the holds it caused (cancelled, sent changed,
// confirmed, released, rejected, expired), per week.
//
// The encoding (codec.go) is additive: fields added later go in optional
// tagged sections after the fixed ones (the sender's behaviour baseline is
// section 1), which an older reader skips; a new section takes the next
// tag.
//
// Invariants: a report is written in the transaction that accepts its
// message (PutTx), never in one of its own; keys order reports by time, so
// a replay since T (Scan), the newest first (ScanBack) and a purge before
// T are range scans. Nodes sharing PostgreSQL still write there first and
// Ship moves the reports to the shared table (reportspg) in batches, so
// the acceptance never waits on the database; the shared table orders
// rows as bbolt orders keys and passes the same suite (reportstest).
package reports
