package front

import (
	"fmt"

	"github.com/emersion/go-smtp"
)

// Reply codes, in one place. RFC 5321 §4.2 for the basic codes, RFC 3463
// for the enhanced ones.
var (
	// 554 5.7.1: RFC 5321 §3.6.2 — refusing to relay for an unknown client.
	errRelayDenied = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "Relay access denied: this client is not in a trusted network and has not authenticated"}
	errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8},
		Message: "Authentication credentials invalid"}
	errAuthMech = &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 5, 4},
		Message: "Unrecognized authentication mechanism"}
	// 553: RFC 5321 §4.2.2 "mailbox name not allowed"; RFC 3463 X.1.7 bad
	// sender address syntax, X.1.3 bad destination mailbox address syntax.
	errBadSender = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 7},
		Message: "Bad sender address syntax"}
	errBadRcpt = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 3},
		Message: "Bad recipient address syntax"}
	errSenderNotUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 7},
		Message: "Sender address is not valid UTF-8"}
	errRcptNotUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 3},
		Message: "Recipient address is not valid UTF-8"}
	// 553 5.6.7: RFC 6531 §3.7.4.1 — a non-ASCII address in a transaction
	// whose MAIL FROM did not carry SMTPUTF8 (RFC 6531 §3.4).
	errNeedSMTPUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
		Message: "Non-ASCII address requires the SMTPUTF8 parameter on MAIL FROM (RFC 6531)"}
	// 552 5.3.4: RFC 1870 §6 — the SIZE parameter or the data exceeds the limit.
	errTooBig = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Message size exceeds fixed limit"}
	errHeaderTooBig = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Message header exceeds fixed limit"}
	// 554 5.6.0: a bare LF or CR in DATA, the SMTP smuggling vector (as
	// Postfix smtpd_forbid_bare_newline); RFC 5321 §2.3.8 requires CRLF.
	errBareLF = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Message contains a bare LF or CR: lines must end with CRLF (RFC 5321 2.3.8)"}
	// 554 5.4.6: RFC 5321 §6.3 — too many Received headers, a routing loop.
	errLoop = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 4, 6},
		Message: "Routing loop detected: too many Received headers"}
	errTimeout = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Timeout waiting for data, closing connection"}
	errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Service shutting down, try again later"}
)

// routedRcpt refuses a recipient that a next hop could route elsewhere than
// the domain sendguard inspects for (RFC 5321 §3.6.1 and Appendix C leave
// '%' hacks and source routes to the server's discretion; an '@' in the
// local part hides a second address). 553 5.1.3: bad destination mailbox
// address syntax, as Postfix answers for '%' and '!' with
// allow_untrusted_routing = no.
func routedRcpt(what string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 3},
		Message: "Routed recipient address refused (" + what + "): give the final mailbox user@domain"}
}

// lineTooLong refuses a message with a line over the limit. 552 5.3.4:
// RFC 5321 §4.5.3.1.6 and §4.3.2 (552 is a permanent reply allowed after
// DATA; 500 is not), RFC 3463 X.3.4 message too big for system. Permanent:
// resending the same message can never succeed.
func lineTooLong(limit int) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: fmt.Sprintf("Message has a line longer than %d bytes: lines must be at most %d bytes (RFC 5321 4.5.3.1.6)", limit, limit)}
}

// internalError is the only reply an internal failure gets: temporary, so
// the client retries, and generic, so nothing about our disks or config
// leaks. The queue ID lets an admin find the log lines.
func internalError(qid string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: fmt.Sprintf("Local error in processing, try again later (id %s)", qid)}
}

// policyReject is a policy's refusal with the reason the sender will read.
// RFC 3463 X.7.1: delivery not authorized, message refused.
func policyReject(reason string) *smtp.SMTPError {
	if reason == "" {
		reason = "Message refused by the outbound mail policy"
	}
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: sanitizeReply(reason)}
}

func queued(qid string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as " + qid}
}

// sanitizeReply keeps a reply on one printable line.
func sanitizeReply(s string) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if c == '\r' || c == '\n' || c < 0x20 && c != '\t' {
			c = ' '
		}
		out = append(out, c)
	}
	if len(out) > 400 {
		out = out[:400]
	}
	return string(out)
}
