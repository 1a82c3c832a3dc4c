package gateway

import "github.com/sendguard/sendguard/spool"

// Envelope is one SMTP transaction's envelope.
type Envelope struct {
	QueueID  string
	MailFrom string
	Rcpts    []spool.Rcpt
	UTF8     bool
	EightBit bool
	DSNRet   string
	DSNEnvID string
	Size     int64 // SIZE parameter, 0 if not given
}

// Addresses returns the envelope recipients' addresses.
func (e *Envelope) Addresses() []string {
	out := make([]string, len(e.Rcpts))
	for i, r := range e.Rcpts {
		out[i] = r.Addr
	}
	return out
}
