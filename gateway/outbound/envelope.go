package outbound

import (
	"io"
)

// BodyFunc opens the message for one transfer. It is called once per
// connection attempt (possibly concurrently for different destinations) and
// the reader is always closed.
type BodyFunc func() (io.ReadCloser, error)

// DSN RET values (RFC 3461 §4.3).
const (
	RetFull = "FULL"
	RetHdrs = "HDRS"
)

// Envelope is the SMTP envelope of one message.
type Envelope struct {
	MailFrom string // "" is the null sender <>
	Rcpts    []string
	Size     int64 // body size in bytes, for SIZE (RFC 1870); 0 if unknown
	SMTPUTF8 bool  // needs SMTPUTF8 (RFC 6531) at the peer
	EightBit bool  // body has 8-bit data
	// RequireTLS defers the transaction (451 4.7.0) on a session without
	// TLS, whatever Config.TLS allows: the recipients' domains require it.
	RequireTLS bool

	// DSN parameters (RFC 3461), passed on when the peer offers DSN.
	Ret     string             // RetFull, RetHdrs or ""
	EnvID   string             // ENVID
	RcptDSN map[string]RcptDSN // by recipient address

	// Accepted, if set, is called with the recipients of a transaction
	// right after the peer's 250 to the data, before the session is
	// reused or closed and before other destinations finish: the caller
	// records the acceptance durably at once, which bounds what a crash
	// can deliver twice. It may be called concurrently (one call per
	// transaction) and delays only this session.
	Accepted func([]RcptResult)
}

// RcptDSN holds the per-recipient DSN parameters.
type RcptDSN struct {
	Notify []string // NEVER, or any of SUCCESS, FAILURE, DELAY
	ORcpt  string   // original recipient address (rfc822 type), "" if none
}

// RcptResult is the outcome of one delivery attempt for one recipient.
type RcptResult struct {
	Rcpt      string
	Code      int    // SMTP reply code; synthesised for local failures
	Enhanced  string // enhanced status code (RFC 3463), e.g. "5.1.1"
	Message   string // reply text (CR/LF folded to spaces)
	Temporary bool   // retry later; false with !Delivered means bounce
	Delivered bool
	// RemoteHost is the peer's host name (and address) when one was
	// reached, "" otherwise.
	RemoteHost string
	// FromPeer is true when Code and Message were sent by RemoteHost
	// (a DSN then shows them as "Diagnostic-Code: smtp; ...").
	FromPeer bool
}
