// Package disposition decides what happens to an accepted message and
// applies it: the policy's verdict becomes a typed plan (a hold, notices,
// rewrites), committed with the message; what runs later (a release's
// Bcc → link → encrypt rewrites, decision notices) is recorded as spool
// steps and run by the StepRunner outside any transaction.
package disposition
