package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestOneLogLinePerMessage reads the real binary's JSON log: each message
// gets one line when it is accepted and decided, and a delivered one a
// second when its delivery ends; the lines carry the facts an admin greps
// for and nothing of the body, subject or recipient addresses.
func TestOneLogLinePerMessage(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	policyPath := in.dir + "/policy.yaml"
	writeFile(policyPath, `version: 1
rules:
  - name: refuse-marked
    when: subject.contains("refuse")
    actions: [reject]
    reason: {ja: 拒否します。, en: Refused.}
  - name: pii-external
    when: recipients.external > 0 && finding("credit_card") > 0
    actions: [hold_review]
    reason: {ja: 確認します。, en: Reviewed first.}
  - name: pass
    when: "true"
    actions: [deliver]
`)
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, strings.Replace(cfg, "log:\n  level: debug\n", "log:\n  level: debug\n  format: json\n", 1)+"policy: "+policyPath+"\n")
	in.start()

	const (
		secretBody    = "body-marker-7f3a"
		secretSubject = "subject-marker-91c2"
		card          = "4111111111111111"
		extRcpt       = "carol.partner@partner.test"
		intRcpt       = "dave.colleague@example.com"
	)
	rcpts := []string{intRcpt, extRcpt}
	clean := []byte("From: <alice@example.com>\r\nTo: <" + intRcpt + ">, <" + extRcpt + ">\r\nSubject: " + secretSubject +
		"\r\nMessage-ID: <clean-1@test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" + secretBody + "\r\n")
	pii := []byte("From: <alice@example.com>\r\nTo: <" + intRcpt + ">, <" + extRcpt + ">\r\nSubject: " + secretSubject +
		"\r\nMessage-ID: <pii-1@test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\ncard " + card + " " + secretBody + "\r\n")
	if err := sendMail(in.smtp, "alice@example.com", rcpts, clean); err != nil {
		t.Fatal(err)
	}
	if err := sendMail(in.smtp, "alice@example.com", rcpts, pii); err != nil {
		t.Fatal(err)
	}
	refused := []byte("From: <alice@example.com>\r\nTo: <" + extRcpt + ">\r\nSubject: refuse " + secretSubject +
		"\r\nMessage-ID: <refused-1@test>\r\n\r\n" + secretBody + "\r\n")
	if err := sendMail(in.smtp, "alice@example.com", []string{extRcpt}, refused); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Fatalf("refused message: %v", err)
	}
	if _, err := sk.Wait(1, 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, in.logs())
	}
	waitLog(t, in, `"status":"delivered"`, 1)

	logs := in.logs()
	for _, s := range []string{secretBody, secretSubject, card} {
		if strings.Contains(logs, s) {
			t.Errorf("the log carries %q from the message", s)
		}
	}
	byMsg := map[string][]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line["msg"] != "message" {
			continue
		}
		for _, s := range []string{extRcpt, intRcpt} {
			if strings.Contains(sc.Text(), s) {
				t.Errorf("a message line names recipient %s: %s", s, sc.Text())
			}
		}
		id, _ := line["message_id"].(string)
		byMsg[id] = append(byMsg[id], line)
	}
	want := func(line map[string]any, key string, v any) {
		t.Helper()
		if got, ok := line[key]; !ok || (v != nil && got != v) {
			t.Errorf("%s = %v (present %v), want %v in %v", key, got, ok, v, line)
		}
	}
	clines, plines, rlines := byMsg["<clean-1@test>"], byMsg["<pii-1@test>"], byMsg["<refused-1@test>"]
	if len(clines) != 2 || len(plines) != 1 || len(rlines) != 1 {
		t.Fatalf("lines: clean %d (want accepted + delivered), held %d, refused %d (want 1 each)\n%s", len(clines), len(plines), len(rlines), logs)
	}
	r := rlines[0]
	want(r, "status", "rejected")
	want(r, "reply", "550 5.7.1")
	want(r, "rules", "refuse-marked")
	want(r, "action", "reject")
	want(r, "rcpts_external", 1.0)
	want(r, "queue_id", nil)
	for _, line := range append(append([]map[string]any{}, clines...), plines...) {
		for _, k := range []string{"queue_id", "size", "rules", "action", "reply"} {
			want(line, k, nil)
		}
		want(line, "from", "<alice@example.com>")
		want(line, "rcpts", 2.0)
		want(line, "rcpts_internal", 1.0)
		want(line, "rcpts_external", 1.0)
		if line["queue_id"] != clines[0]["queue_id"] && line["queue_id"] != plines[0]["queue_id"] {
			t.Errorf("queue_id %v is neither message's", line["queue_id"])
		}
	}
	acc, del := clines[0], clines[1]
	want(acc, "status", "queued")
	want(acc, "action", "deliver")
	want(acc, "reply", "250 2.0.0")
	want(acc, "accept_ms", nil)
	want(acc, "inspect_ms", nil)
	want(del, "status", "delivered")
	want(del, "deliver_ms", nil)
	want(del, "component", "delivery")
	if r, _ := del["reply"].(string); !strings.HasPrefix(r, "250") {
		t.Errorf("delivered line's reply %q is not the next hop's 250", r)
	}
	if del["queue_id"] != acc["queue_id"] {
		t.Errorf("accepted and delivered lines have different queue IDs: %v %v", acc["queue_id"], del["queue_id"])
	}
	h := plines[0]
	want(h, "status", "held")
	want(h, "rules", "pii-external")
	want(h, "reply", "250 2.0.0")
	want(h, "action", "hold_review")

	// The hold ends by rejection: its closing line, same queue ID.
	qid, _ := h["queue_id"].(string)
	if out, err := in.cli("queue", "reject", qid, "-reason", "no"); err != nil {
		t.Fatalf("reject: %v %s", err, out)
	}
	waitLog(t, in, `"status":"rejected","message_id":"<pii-1@test>"`, 1)
	var closing map[string]any
	sc = bufio.NewScanner(strings.NewReader(in.logs()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "message" && line["message_id"] == "<pii-1@test>" && line["status"] == "rejected" {
			closing = line
		}
	}
	if closing == nil {
		t.Fatal("no closing line for the rejected hold")
	}
	want(closing, "queue_id", qid)
	want(closing, "component", "queue")
	want(closing, "rules", "pii-external")
	want(closing, "action", "hold_review")
	want(closing, "rcpts_external", 1.0)
}
