package intake

import (
	"fmt"

	"github.com/sendguard/sendguard/gateway"
)

// Kind is what became of a message.
type Kind int

const (
	// Accepted: committed and queued for delivery.
	Accepted Kind = iota + 1
	// Held: committed and held (review, confirmation, approval).
	Held
	// Rejected: refused by the policy; nothing was kept.
	Rejected
	// DataRefused: the data broke a limit or could not be read; Data says
	// which. Nothing was kept.
	DataRefused
	// TempFailed: sendguard itself could not work (disk, inspector,
	// commit); the client should retry. Nothing was kept.
	TempFailed
)

func (k Kind) String() string {
	switch k {
	case Accepted:
		return "accepted"
	case Held:
		return "held"
	case Rejected:
		return "rejected"
	case DataRefused:
		return "data refused"
	case TempFailed:
		return "temporary failure"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// DataKind is the way the data was refused. The values are the
// rejection reasons the front counts.
type DataKind string

const (
	// DataBareLineEnding: a bare LF or CR, the SMTP smuggling vector,
	// without smtp.bare_lf: normalize.
	DataBareLineEnding DataKind = "bare_lf"
	// DataHeaderTooBig: the header section is over maxHeaderBytes.
	DataHeaderTooBig DataKind = "header_size"
	// DataLoop: more than maxReceivedFields Received fields.
	DataLoop DataKind = "loop"
	// DataLineTooLong: a line over Outcome.LineLimit bytes, CRLF included.
	// The rest of the message is still on the wire.
	DataLineTooLong DataKind = "line_length"
	// DataUnreadable: reading the message failed (size limit, timeout,
	// lost connection); Outcome.Err is the reader's error, which only the
	// reader's owner can interpret.
	DataUnreadable DataKind = "unreadable"
)

// Outcome is the result of a transaction: exactly the fields its Kind
// names are set.
type Outcome struct {
	Kind    Kind
	QueueID string

	// Rejected: the policy's reason for the sender ("" for the default
	// text) and the rules that matched.
	Reason string
	Rules  []string

	// DataRefused: which limit, the line limit for DataLineTooLong.
	Data      DataKind
	LineLimit int

	// TempFailed: the step that failed ("spool message", "inspect
	// message", ...) and why; DataRefused with DataUnreadable: the
	// reader's error.
	Op  string
	Err error

	// Facts are the message line's fields for Accepted, Held and
	// Rejected (the caller adds the reply); nil otherwise.
	Facts *gateway.MessageFacts
}

func (o Outcome) String() string {
	switch o.Kind {
	case Rejected:
		return fmt.Sprintf("rejected (%s)", o.Reason)
	case DataRefused:
		return "data refused: " + string(o.Data)
	case TempFailed:
		return fmt.Sprintf("temporary failure: %s: %v", o.Op, o.Err)
	}
	return o.Kind.String() + " as " + o.QueueID
}
