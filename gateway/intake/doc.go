// Package intake is the acceptance stage: one message's transaction from
// the envelope to the commit, spool → inspect → decide → persist, with a
// typed outcome instead of a reply. It speaks no SMTP; the front maps the
// outcome to reply codes.
//
// The transaction has maddy's delivery shape: Start with the sender,
// AddRcpt per recipient, Body to spool and inspect, then Commit or Abort.
// Nothing is a message before Commit: Body writes the body file (the
// inspector reads it) but no record; Abort, or any outcome other than
// Accepted and Held, removes the file and undoes what the inspection
// prepared. Commit returns Accepted or Held only once the body file, the
// spool directory and the record are fsynced and committed (the queue's
// Accept), so a 250 given for it is never lost.
package intake
