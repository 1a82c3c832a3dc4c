package front

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// Inspector analyses a spooled message and decides what happens to it. It
// must not fail on message content (an unreadable part is a finding); an
// error means sendguard itself could not work, and the client is asked to
// retry.
type Inspector interface {
	// Inspect decides and prepares the plan: the verdict says what
	// acceptance does and carries what was prepared for it.
	Inspect(ctx context.Context, in *disposition.Inbound) (*disposition.Verdict, error)
	// Discard undoes what Inspect prepared when the message is not
	// accepted after all.
	Discard(v *disposition.Verdict)
}

// receive runs the pipeline for one message: spool → inspect → decide →
// persist → reply. It returns the SMTP reply as an error value.
func (s *Server) receive(log *slog.Logger, ci connInfo, env *gateway.Envelope, r io.Reader) error {
	start := time.Now()
	qid := env.QueueID
	bw, err := s.store.Create(qid)
	if err != nil {
		log.Error("create spool file", "err", err)
		return internalError(qid)
	}
	io.WriteString(bw, receivedHeader(s.hostname, ci, env, start))
	chk := newDataChecker(bw, s.cfg.SMTP.BareLF == "normalize", s.cfg.SMTP.MaxLineLength)
	_, err = bufpool.Copy(chk, r)
	chk.release()
	if err == nil {
		err = chk.Close()
	}
	if err != nil {
		bw.Abort()
		if ir, ok := r.(*idleReader); ok && chk.LineTooLong() {
			ir.drainData(s.cfg.SMTP.MaxMessageBytes)
		}
		return s.dataError(log, qid, err)
	}
	size := bw.Size()
	sum, err := bw.Commit()
	if err != nil {
		log.Error("spool message", "err", err)
		return internalError(qid)
	}

	rec := &spool.Record{
		ID: qid, Kind: spool.KindMail, State: spool.StateQueued, MailFrom: env.MailFrom,
		Rcpts: env.Rcpts, Size: size, SHA256: sum, ReceivedAt: start, NextAttempt: start,
		Expires: start.Add(s.cfg.Delivery.QueueLifetime), ClientIP: ci.ip.String(), Helo: ci.helo,
		AuthUser: ci.user, DSNRet: env.DSNRet, DSNEnvID: env.DSNEnvID, UTF8: env.UTF8, EightBit: env.EightBit,
	}
	// One unit per message: a reload during the analysis changes the next
	// message, not this one.
	insp := s.currentInspector()
	v := &disposition.Verdict{}
	var inspectDur time.Duration
	if insp != nil {
		in := &disposition.Inbound{Env: env, Store: s.store, Path: s.store.BodyPath(qid), Size: size,
			Client: ci.ip.String(), Auth: ci.user, Arrival: start}
		t0 := time.Now()
		v, err = s.inspect(insp, in)
		inspectDur = time.Since(t0)
		if err != nil {
			s.store.RemoveBody(qid)
			log.Error("inspect message", "err", err)
			return internalError(qid)
		}
	}
	facts := gateway.MessageFacts{MessageID: v.MessageID, From: env.MailFrom, Rcpts: len(env.Rcpts), External: v.External,
		Size: size, Rules: v.Rules, Actions: v.Actions, Shadow: shadowNames(v.Shadow), Inspect: inspectDur}
	if v.Reject {
		s.store.RemoveBody(qid)
		insp.Discard(v)
		s.countShadow(v)
		s.metrics.Rejected.WithLabelValues("policy").Inc()
		rej := policyReject(v.RejectReason)
		facts.Status, facts.Reply, facts.Accept = "rejected", gateway.ReplyText(rej), time.Since(start)
		gateway.LogMessage(log, facts)
		return rej
	}
	err = s.queue.Accept(context.Background(), v.Acceptance(rec))
	if err != nil {
		s.store.RemoveBody(qid)
		if insp != nil {
			insp.Discard(v)
		}
		log.Error("commit message record", "err", err)
		return internalError(qid)
	}
	s.metrics.Received.Inc()
	s.metrics.ReceivedSize.Add(float64(size))
	s.metrics.AcceptLat.Observe(time.Since(start).Seconds())
	for _, a := range v.Actions {
		s.metrics.Actions.WithLabelValues(a).Inc()
	}
	s.countShadow(v)
	if v.Learn != nil {
		v.Learn()
	}
	ok := queued(qid)
	facts.Status, facts.Reply, facts.Accept = string(rec.State), gateway.ReplyText(ok), time.Since(start)
	gateway.LogMessage(log, facts)
	s.onQueued(qid) // notices of a hold are queued too
	return ok
}

// countShadow counts the shadow matches of a message that got its final
// reply (a 451 is retried and would count twice).
func (s *Server) countShadow(v *disposition.Verdict) {
	for _, m := range v.Shadow {
		s.metrics.Shadow.WithLabelValues(m.Rule).Inc()
		if reports.WouldStop(v.Actions, m.Actions) {
			s.metrics.ShadowStops.WithLabelValues(m.Rule).Inc()
		}
	}
}

// shadowNames lists the matched shadow rules for the log, nil when none.
func shadowNames(ms []policy.Shadow) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule+"="+strings.Join(m.Actions, "+"))
	}
	return out
}

// inspect runs the inspector and turns a panic into an error: a message
// that crashes the analysis must not crash the server.
func (s *Server) inspect(insp Inspector, in *disposition.Inbound) (v *disposition.Verdict, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("inspector panic: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return insp.Inspect(ctx, in)
}

// dataError maps a failure while reading DATA to the client's reply.
func (s *Server) dataError(log *slog.Logger, qid string, err error) error {
	var se *smtp.SMTPError
	switch {
	case errors.Is(err, smtp.ErrDataTooLarge):
		s.metrics.Rejected.WithLabelValues("size").Inc()
		return errTooBig
	case errors.As(err, &se):
		reason := "data"
		switch se {
		case errBareLF:
			reason = "bare_lf"
		case errHeaderTooBig:
			reason = "header_size"
		case errLoop:
			reason = "loop"
		case errTimeout:
			reason = "timeout"
		}
		if se.Code == 552 && se.EnhancedCode == (smtp.EnhancedCode{5, 3, 4}) {
			reason = "line_length"
		}
		s.metrics.Rejected.WithLabelValues(reason).Inc()
		log.Warn("message refused", "reason", reason)
		return se
	case errors.Is(err, io.ErrUnexpectedEOF):
		log.Warn("connection lost during DATA")
		return err
	}
	log.Error("receive message", "err", err)
	return internalError(qid)
}

// receivedHeader is the trace field we add (RFC 5321 §4.4). The "for"
// clause names the recipient only when there is exactly one, so a Bcc
// recipient is never revealed to the others.
func receivedHeader(host string, ci connInfo, env *gateway.Envelope, t time.Time) string {
	proto := "ESMTP"
	if ci.tls {
		proto += "S"
	}
	if ci.user != "" {
		proto += "A"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (sendguard) with %s id %s",
		headerSafe(ci.helo), ci.ip, headerSafe(host), proto, env.QueueID)
	if len(env.Rcpts) == 1 {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", headerSafe(env.Rcpts[0].Addr))
	}
	fmt.Fprintf(&b, ";\r\n\t%s\r\n", t.Format(time.RFC1123Z))
	return b.String()
}

func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r == 0x7f || r == '(' || r == ')' {
			return '_'
		}
		return r
	}, s)
}
