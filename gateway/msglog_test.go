package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/spool"
)

// A bounced message's line names the failure, not the recipient that was
// delivered, and keeps a long peer reply on one bounded line.
func TestRecordFactsOfABounce(t *testing.T) {
	t0 := time.Now()
	rec := &spool.Record{ID: "Q1", Kind: spool.KindMail, State: spool.StateBounced, MailFrom: "alice@example.com",
		MessageID: "<m@test>", Size: 1234, ReceivedAt: t0, Attempts: 2,
		Report:   json.RawMessage(`{"recipients":{"total":2,"external":2}}`),
		Decision: json.RawMessage(`{"actions":["encrypt"],"rules":["external-attachment"]}`),
		Rcpts: []spool.Rcpt{
			{Addr: "a@partner.test", Status: spool.RcptDelivered, Code: 250, Enhanced: "2.0.0", Message: "ok", Updated: t0.Add(2 * time.Second)},
			{Addr: "b@partner.test", Status: spool.RcptFailed, Code: 550, Enhanced: "5.1.1", Message: "<b@partner.test>: no such\r\nuser " + strings.Repeat("x", 300), Updated: t0.Add(time.Second)},
		}}
	var buf bytes.Buffer
	LogMessage(slog.New(slog.NewJSONHandler(&buf, nil)), RecordFacts(rec, t0.Add(3*time.Second)))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	reply, _ := line["reply"].(string)
	if !strings.HasPrefix(reply, "550 5.1.1 <***@partner.test>: no such user xxx") || len(reply) > 220 || strings.ContainsAny(reply, "\r\n") {
		t.Errorf("reply %q", reply)
	}
	for k, v := range map[string]any{"status": "bounced", "rcpts": 2.0, "rcpts_internal": 0.0, "rcpts_external": 2.0,
		"rules": "external-attachment", "action": "encrypt", "deliver_ms": 3000.0, "attempts": 2.0, "from": "<alice@example.com>"} {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if strings.Contains(buf.String(), "a@partner.test") || strings.Contains(buf.String(), "b@partner.test") {
		t.Errorf("the line names a recipient: %s", buf.String())
	}
}
