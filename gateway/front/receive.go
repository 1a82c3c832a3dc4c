package front

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/intake"
)

// receive hands one message's DATA to its intake transaction (spool →
// inspect → decide → persist) and answers with the reply the outcome maps
// to (codes.go). It returns the SMTP reply as an error value.
func (s *Server) receive(log *slog.Logger, tx *intake.Tx, c intake.Client, ir *idleReader) error {
	out := tx.Body(c, ir)
	if out == nil {
		o := tx.Commit(context.Background())
		out = &o
	}
	rep, reason := reply(*out)
	if reason != "" {
		s.metrics.Rejected.WithLabelValues(reason).Inc()
	}
	switch out.Kind {
	case intake.Accepted, intake.Held, intake.Rejected:
		f := *out.Facts
		f.Reply = gateway.ReplyText(rep.(*smtp.SMTPError))
		gateway.LogMessage(log, f)
	case intake.DataRefused:
		if out.Data == intake.DataLineTooLong {
			// The rest of the message is still coming.
			ir.drainData(s.cfg.SMTP.MaxMessageBytes)
		}
		switch {
		case reason == "size": // counted only, as at MAIL FROM
		case reason != "":
			log.Warn("message refused", "reason", reason)
		case errors.Is(out.Err, io.ErrUnexpectedEOF):
			log.Warn("connection lost during DATA")
		default:
			log.Error("receive message", "err", out.Err)
		}
	case intake.TempFailed:
		log.Error(out.Op, "err", out.Err)
	}
	return rep
}

// reply maps an outcome to the client's reply and the reason a refusal is
// counted under ("" for none: an acceptance, or a failure the client
// retries).
func reply(o intake.Outcome) (error, string) {
	switch o.Kind {
	case intake.Accepted, intake.Held:
		return queued(o.QueueID), ""
	case intake.Rejected:
		return policyReject(o.Reason), "policy"
	case intake.DataRefused:
		switch o.Data {
		case intake.DataBareLineEnding:
			return errBareLF, string(o.Data)
		case intake.DataHeaderTooBig:
			return errHeaderTooBig, string(o.Data)
		case intake.DataLoop:
			return errLoop, string(o.Data)
		case intake.DataLineTooLong:
			return lineTooLong(o.LineLimit), string(o.Data)
		case intake.DataUnreadable:
			return readFailure(o.QueueID, o.Err)
		}
	}
	return internalError(o.QueueID), ""
}

// readFailure maps an error reading DATA from the client: go-smtp's size
// limit, our idle timeout, a lost connection.
func readFailure(qid string, err error) (error, string) {
	var se *smtp.SMTPError
	switch {
	case errors.Is(err, smtp.ErrDataTooLarge):
		return errTooBig, "size"
	case errors.As(err, &se):
		reason := "data"
		if se == errTimeout {
			reason = "timeout"
		}
		if se.Code == 552 && se.EnhancedCode == (smtp.EnhancedCode{5, 3, 4}) {
			reason = "line_length"
		}
		return se, reason
	case errors.Is(err, io.ErrUnexpectedEOF):
		return err, ""
	}
	return internalError(qid), ""
}
