package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/spool"
)

// The message line: one log line each time a message reaches the end of
// a cycle — when it is accepted and decided (status queued, held or
// rejected), when its delivery ends (delivered, bounced, expired) and
// when it ends without delivery (a hold rejected, cancelled or expired,
// an admin's delete: package queue reports those after their commit) —
// grep-able by queue_id as in Postfix's log:
//
//	msg=message queue_id=… status=held message_id=<…> from=<…> rcpts=3
//	rcpts_internal=1 rcpts_external=2 size=2048 rules=pii-external
//	action=hold_review reply="250 2.0.0 …" accept_ms=… inspect_ms=…
//
// It carries envelope facts, counts and rule names only: never the body,
// the subject, recipient addresses, finding values, passwords or tokens.

// MessageLineMsg is the msg of every message line.
const MessageLineMsg = "message"

// MessageFacts are the fields of a message line.
type MessageFacts struct {
	Status    string
	MessageID string
	From      string
	Rcpts     int
	External  int
	Size      int64
	Rules     []string
	Actions   []string
	Shadow    []string // shadow rules that would have matched (rule=actions)
	Reply     string
	Accept    time.Duration // DATA start to the reply
	Inspect   time.Duration // analysis and decision
	Deliver   time.Duration // acceptance to the end of delivery
	Attempts  int
}

// LogMessage writes the message line; log already names the queue ID.
func LogMessage(log *slog.Logger, f MessageFacts) {
	attrs := []slog.Attr{
		slog.String("status", f.Status),
		slog.String("message_id", f.MessageID),
		slog.String("from", "<"+f.From+">"),
		slog.Int("rcpts", f.Rcpts),
		slog.Int("rcpts_internal", max(f.Rcpts-f.External, 0)),
		slog.Int("rcpts_external", f.External),
		slog.Int64("size", f.Size),
		slog.String("rules", strings.Join(f.Rules, ",")),
		slog.String("action", strings.Join(f.Actions, ",")),
		slog.String("reply", f.Reply),
	}
	if len(f.Shadow) > 0 {
		attrs = append(attrs, slog.String("shadow", strings.Join(f.Shadow, ",")))
	}
	if f.Accept > 0 {
		attrs = append(attrs, slog.Float64("accept_ms", ms(f.Accept)))
	}
	if f.Inspect > 0 {
		attrs = append(attrs, slog.Float64("inspect_ms", ms(f.Inspect)))
	}
	if f.Deliver > 0 {
		attrs = append(attrs, slog.Float64("deliver_ms", ms(f.Deliver)), slog.Int("attempts", f.Attempts))
	}
	log.LogAttrs(context.Background(), slog.LevelInfo, MessageLineMsg, attrs...)
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// RecordFacts reads a finished record's line: the decision and recipient
// counts stored at acceptance, and the last reply of the next hop.
func RecordFacts(rec *spool.Record, now time.Time) MessageFacts {
	f := MessageFacts{Status: string(rec.State), MessageID: rec.MessageID, From: rec.MailFrom,
		Rcpts: len(rec.Rcpts), Size: rec.Size, Deliver: now.Sub(rec.ReceivedAt), Attempts: rec.Attempts}
	var rep struct {
		Recipients struct{ External int } `json:"recipients"`
	}
	if json.Unmarshal(rec.Report, &rep) == nil {
		f.External = min(rep.Recipients.External, f.Rcpts)
	}
	var dec struct{ Rules, Actions []string }
	if json.Unmarshal(rec.Decision, &dec) == nil {
		f.Rules, f.Actions = dec.Rules, dec.Actions
	}
	if rec.Kind != spool.KindMail {
		f.Actions = []string{string(rec.Kind)}
	}
	f.Reply = lastReply(rec.Rcpts)
	return f
}

// lastReply is the next hop's most recent reply among the recipients
// (a failure's when there is one: that is what the admin looks for).
func lastReply(rcpts []spool.Rcpt) string {
	var best *spool.Rcpt
	for i := range rcpts {
		rc := &rcpts[i]
		if rc.Code == 0 && rc.Message == "" {
			continue
		}
		switch {
		case best == nil,
			rc.Status == spool.RcptFailed && best.Status != spool.RcptFailed,
			rc.Status == best.Status && rc.Updated.After(best.Updated):
			best = rc
		}
	}
	if best == nil {
		return ""
	}
	var parts []string
	if best.Code != 0 {
		parts = append(parts, strconv.Itoa(best.Code))
	}
	if best.Enhanced != "" {
		parts = append(parts, best.Enhanced)
	}
	if best.Message != "" {
		parts = append(parts, replyLine(best.Message, 200))
	}
	return strings.Join(parts, " ")
}

// addrInReply is an address a peer quotes ("<bob@partner.test>:
// Recipient address rejected").
var addrInReply = regexp.MustCompile(`[^\s<>"'@]+@([^\s<>"';,]+)`)

// replyLine keeps a peer's reply on one log line, bounded, and with the
// local part of any address it quotes masked.
func replyLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if strings.IndexByte(s, '@') >= 0 { // no match without one: skip the regexp ("250 2.0.0 Ok: queued")
		s = addrInReply.ReplaceAllString(s, "***@$1")
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// ReplyText is our own reply's code and enhanced code (its text may carry
// the policy's wording, which the line leaves out).
func ReplyText(e *smtp.SMTPError) string {
	c := e.EnhancedCode
	return fmt.Sprintf("%d %d.%d.%d", e.Code, c[0], c[1], c[2])
}
