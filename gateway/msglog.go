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
// rejected) and when its delivery ends (delivered, bounced, expired) —
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

// msgFacts are the fields of a message line.
type msgFacts struct {
	status    string
	messageID string
	from      string
	rcpts     int
	external  int
	size      int64
	rules     []string
	actions   []string
	shadow    []string // shadow rules that would have matched (rule=actions)
	reply     string
	accept    time.Duration // DATA start to the reply
	inspect   time.Duration // analysis and decision
	deliver   time.Duration // acceptance to the end of delivery
	attempts  int
}

// logMessage writes the message line; log already names the queue ID.
func logMessage(log *slog.Logger, f msgFacts) {
	attrs := []slog.Attr{
		slog.String("status", f.status),
		slog.String("message_id", f.messageID),
		slog.String("from", "<"+f.from+">"),
		slog.Int("rcpts", f.rcpts),
		slog.Int("rcpts_internal", max(f.rcpts-f.external, 0)),
		slog.Int("rcpts_external", f.external),
		slog.Int64("size", f.size),
		slog.String("rules", strings.Join(f.rules, ",")),
		slog.String("action", strings.Join(f.actions, ",")),
		slog.String("reply", f.reply),
	}
	if len(f.shadow) > 0 {
		attrs = append(attrs, slog.String("shadow", strings.Join(f.shadow, ",")))
	}
	if f.accept > 0 {
		attrs = append(attrs, slog.Float64("accept_ms", ms(f.accept)))
	}
	if f.inspect > 0 {
		attrs = append(attrs, slog.Float64("inspect_ms", ms(f.inspect)))
	}
	if f.deliver > 0 {
		attrs = append(attrs, slog.Float64("deliver_ms", ms(f.deliver)), slog.Int("attempts", f.attempts))
	}
	log.LogAttrs(context.Background(), slog.LevelInfo, MessageLineMsg, attrs...)
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// recordFacts reads a finished record's line: the decision and recipient
// counts stored at acceptance, and the last reply of the next hop.
func recordFacts(rec *spool.Record, now time.Time) msgFacts {
	f := msgFacts{status: string(rec.State), messageID: rec.MessageID, from: rec.MailFrom,
		rcpts: len(rec.Rcpts), size: rec.Size, deliver: now.Sub(rec.ReceivedAt), attempts: rec.Attempts}
	var rep struct {
		Recipients struct{ External int } `json:"recipients"`
	}
	if json.Unmarshal(rec.Report, &rep) == nil {
		f.external = min(rep.Recipients.External, f.rcpts)
	}
	var dec struct{ Rules, Actions []string }
	if json.Unmarshal(rec.Decision, &dec) == nil {
		f.rules, f.actions = dec.Rules, dec.Actions
	}
	if rec.Kind != spool.KindMail {
		f.actions = []string{string(rec.Kind)}
	}
	f.reply = lastReply(rec.Rcpts)
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
	s = addrInReply.ReplaceAllString(s, "***@$1")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// replyText is our own reply's code and enhanced code (its text may carry
// the policy's wording, which the line leaves out).
func replyText(e *smtp.SMTPError) string {
	c := e.EnhancedCode
	return fmt.Sprintf("%d %d.%d.%d", e.Code, c[0], c[1], c[2])
}
