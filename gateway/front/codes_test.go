package front

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/gateway/intake"
)

// Every outcome of the intake maps to one reply and one counted reason;
// the reply texts are the ones clients and tests already see.
func TestOutcomeReplies(t *testing.T) {
	const qid = "0123456789ABCDEF"
	cases := []struct {
		name   string
		out    intake.Outcome
		reply  string
		reason string
	}{
		{"accepted", intake.Outcome{Kind: intake.Accepted, QueueID: qid}, "250 2.0.0 Ok: queued as " + qid, ""},
		{"held", intake.Outcome{Kind: intake.Held, QueueID: qid}, "250 2.0.0 Ok: queued as " + qid, ""},
		{"rejected with reason", intake.Outcome{Kind: intake.Rejected, QueueID: qid, Reason: "No\r\nconfidential files"},
			"550 5.7.1 No  confidential files", "policy"},
		{"rejected default", intake.Outcome{Kind: intake.Rejected, QueueID: qid},
			"550 5.7.1 Message refused by the outbound mail policy", "policy"},
		{"bare lf", intake.Outcome{Kind: intake.DataRefused, Data: intake.DataBareLineEnding},
			"554 5.6.0 Message contains a bare LF or CR: lines must end with CRLF (RFC 5321 2.3.8)", "bare_lf"},
		{"header", intake.Outcome{Kind: intake.DataRefused, Data: intake.DataHeaderTooBig},
			"552 5.3.4 Message header exceeds fixed limit", "header_size"},
		{"loop", intake.Outcome{Kind: intake.DataRefused, Data: intake.DataLoop},
			"554 5.4.6 Routing loop detected: too many Received headers", "loop"},
		{"long line", intake.Outcome{Kind: intake.DataRefused, Data: intake.DataLineTooLong, LineLimit: 1000},
			"552 5.3.4 Message has a line longer than 1000 bytes: lines must be at most 1000 bytes (RFC 5321 4.5.3.1.6)", "line_length"},
		{"too large", intake.Outcome{Kind: intake.DataRefused, Data: intake.DataUnreadable, Err: smtp.ErrDataTooLarge},
			"552 5.3.4 Message size exceeds fixed limit", "size"},
		{"idle timeout", intake.Outcome{Kind: intake.DataRefused, Data: intake.DataUnreadable, Err: errTimeout},
			"421 4.4.2 Timeout waiting for data, closing connection", "timeout"},
		{"other read failure", intake.Outcome{Kind: intake.DataRefused, QueueID: qid, Data: intake.DataUnreadable,
			Err: errors.New("connection reset")}, "451 4.3.0 Local error in processing, try again later (id " + qid + ")", ""},
		{"temporary", intake.Outcome{Kind: intake.TempFailed, QueueID: qid, Op: "spool message", Err: errors.New("disk full")},
			"451 4.3.0 Local error in processing, try again later (id " + qid + ")", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, reason := reply(c.out)
			var se *smtp.SMTPError
			if !errors.As(rep, &se) {
				t.Fatalf("reply %v is not an SMTP reply", rep)
			}
			got := fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
			if got != c.reply || reason != c.reason {
				t.Fatalf("got %q (%q), want %q (%q)", got, reason, c.reply, c.reason)
			}
		})
	}
	// A lost connection has no one to answer: the error goes back to
	// go-smtp as it is.
	rep, reason := reply(intake.Outcome{Kind: intake.DataRefused, Data: intake.DataUnreadable, Err: io.ErrUnexpectedEOF})
	if rep != io.ErrUnexpectedEOF || reason != "" {
		t.Fatalf("lost connection: %v (%q)", rep, reason)
	}
}
