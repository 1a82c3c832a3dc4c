package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/spool"
)

type failingReports struct{}

func (failingReports) PutTx(*bbolt.Tx, *reports.Report) error { return errors.New("disk full") }
func (failingReports) AmendActionsTx(*bbolt.Tx, time.Time, string, []string) error {
	return errors.New("disk full")
}

// The stored report commits with the message or not at all, and records
// what acceptance did (the hold, its rule, the shadow match).
func TestReportCommitsWithAcceptance(t *testing.T) {
	pol := strings.Replace(pipePolicy("hold_review"), "rules:\n", `rules:
  - name: shadowed
    mode: shadow
    when: "true"
    actions: [reject]
    reason: {en: trial}
`, 1)
	p := openPipe(t, t.TempDir(), pol, &recorder{}, nil)
	defer p.close()
	insp := *p.insp
	insp.KeepReports = true
	rs := &reports.Bolt{DB: p.store.DB()}
	if err := rs.Init(); err != nil {
		t.Fatal(err)
	}

	accept := func(w queue.ReportStore) (string, error) {
		q, err := queue.Open(p.store, queue.Options{Reports: w})
		if err != nil {
			t.Fatal(err)
		}
		qid := spool.NewID()
		bw, err := p.store.Create(qid)
		if err != nil {
			t.Fatal(err)
		}
		bw.Write(pipeMail(qid))
		size := bw.Size()
		sum, err := bw.Commit()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		env := &gateway.Envelope{QueueID: qid, MailFrom: "alice@example.com", Rcpts: []spool.Rcpt{{Addr: pipeRcpt}, {Addr: "carol@example.com"}}}
		v, err := insp.Inspect(context.Background(), &disposition.Inbound{Env: env, Store: p.store, Size: size, Arrival: now})
		if err != nil {
			t.Fatal(err)
		}
		rec := &spool.Record{ID: qid, Kind: spool.KindMail, State: spool.StateHeld, MailFrom: env.MailFrom, Rcpts: env.Rcpts,
			Size: size, SHA256: sum, ReceivedAt: now, NextAttempt: now, Expires: now.Add(time.Hour), Subject: v.Subject}
		return qid, q.Accept(context.Background(), v.Acceptance(rec))
	}

	qid, err := accept(failingReports{})
	if err == nil {
		t.Fatal("acceptance committed without its report")
	}
	if _, err := p.store.Get(qid); err == nil {
		t.Fatal("message record committed without its report")
	}
	if _, err := p.q.Holds.Get(context.Background(), qid); err == nil {
		t.Fatal("hold committed without its report")
	}

	qid, err = accept(rs)
	if err != nil {
		t.Fatal(err)
	}
	var got []*reports.Report
	if _, err := rs.Scan(context.Background(), time.Time{}, func(r *reports.Report) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].QueueID != qid {
		t.Fatalf("stored reports: %+v", got)
	}
	r := got[0]
	if reports.Outcome(r.Actions) != "hold_review" || len(r.Rules) != 1 || r.Rules[0] != "guarded" ||
		len(r.Shadow) != 1 || r.Shadow[0].Rule != "shadowed" || r.Recipients.External != 1 || len(r.Attachments) != 1 {
		t.Fatalf("stored report: %+v", r)
	}
}
