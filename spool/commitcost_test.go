package spool

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// encryptMessage is what the database holds of one encrypt-class mail
// of a few KB as sendguard-bench sends it: the record with its report,
// the body as received and its encrypted copy inline, and the sender's
// password notice (inline too), accepted in one transaction.
func encryptMessage(now time.Time) (mail, mailDone, notice, noticeDone *Record) {
	mail, mailDone = deliveredRecord(NewID(), now)
	mail.Inline, mail.InlineCopy = randBytes(16<<10), randBytes(17<<10)
	notice = &Record{ID: NewID(), Kind: KindNotice, State: StateQueued, MailFrom: "",
		Rcpts: []Rcpt{{Addr: "ito.29@example.com", Status: RcptPending}}, Size: 1800,
		Subject: "パスワードのお知らせ", ReceivedAt: now, NextAttempt: now, Expires: now.Add(120 * time.Hour),
		Inline: randBytes(1800)}
	n := *notice
	n.Inline = nil
	n.InlineBody = true
	n.Rcpts = []Rcpt{{Addr: "ito.29@example.com", Status: RcptDelivered, Code: 250, Updated: now}}
	n.Attempts, n.State, n.FinishedAt = 1, StateDelivered, now
	return mail, mailDone, notice, &n
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// commitCost runs the database's share of n encrypt-class messages from
// writers goroutines (acceptance of the mail with its notice, then each
// one's delivery result) and returns per message the pages and bytes
// written, the commits, and the process's CPU time (user+system).
func commitCost(tb testing.TB, s *Store, writers, n int) (pages, written, commits float64, cpu time.Duration) {
	msgs := make([][4]*Record, n)
	for i := range msgs {
		a, b, c, d := encryptMessage(time.Now())
		msgs[i] = [4]*Record{a, b, c, d}
	}
	before := s.db.Stats().TxStats
	c0 := s.commitsRun.Load()
	cpu0 := cpuTime()
	var next atomic.Int64
	done := make(chan struct{})
	for range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				m := msgs[i-1]
				if err := s.AcceptInline(m[0], func(tx *bbolt.Tx) error { return PutTx(tx, m[2]) }); err != nil {
					tb.Error(err)
					return
				}
				for _, r := range []*Record{m[1], m[3]} {
					if err := s.Replace(r, func(State) error { return nil }, nil); err != nil {
						tb.Error(err)
						return
					}
				}
			}
		}()
	}
	for range writers {
		<-done
	}
	cpu = (cpuTime() - cpu0) / time.Duration(n)
	after := s.db.Stats().TxStats
	f := float64(n)
	return float64(after.GetPageCount()-before.GetPageCount()) / f,
		float64(after.GetPageAlloc()-before.GetPageAlloc()) / f,
		float64(s.commitsRun.Load()-c0) / f, cpu
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncryptCommits is the database's cost of one encrypt-class
// message in the same run: as before (inline values under flat keys,
// records encoded whole by encoding/json), with a bucket per message's
// inline values, and with the report and decision spliced in too.
func BenchmarkEncryptCommits(b *testing.B) {
	for _, v := range []struct {
		name         string
		flat, splice bool
	}{{"before", true, false}, {"bucket-per-message", false, false}, {"and-splice", false, true}} {
		b.Run(v.name, func(b *testing.B) {
			defer func(f, sp bool) { flatInline, spliceAnalysis = f, sp }(flatInline, spliceAnalysis)
			flatInline, spliceAnalysis = v.flat, v.splice
			s := openTest(b, b.TempDir())
			defer s.Close()
			commitCost(b, s, 10, 300) // a spool that already holds some
			b.ResetTimer()
			pages, written, commits, cpu := commitCost(b, s, 10, b.N)
			b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/msg")
			b.ReportMetric(pages, "pages/msg")
			b.ReportMetric(written/1024, "KB/msg")
			b.ReportMetric(commits, "commits/msg")
			b.ReportMetric(2*commits, "fdatasyncs/msg")
		})
	}
}

// BenchmarkEncodeRecord is a delivered mail's record as encoding/json
// writes it whole, spliced with a report checked by json.Valid (as on
// acceptance), and spliced as read back (a delivery's result).
func BenchmarkEncodeRecord(b *testing.B) {
	_, done := deliveredRecord(NewID(), time.Now())
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(done)
		}
	})
	b.Run("splice-checked", func(b *testing.B) {
		for b.Loop() {
			done.knownJSON = [2][]byte{}
			encodeRecord(done)
		}
	})
	b.Run("splice-read-back", func(b *testing.B) {
		for b.Loop() {
			encodeRecord(done)
		}
	})
}

// inlineLeft counts the inline values (and message buckets) in either
// layout.
func inlineLeft(tx *bbolt.Tx) int {
	return tx.Bucket(bucketInline).Stats().KeyN + tx.Bucket(bucketBodies).Stats().KeyN
}

// expectNoInline fails t if any inline body or copy is left (what names
// the moment in the message).
func expectNoInline(t *testing.T, s *Store, what string) {
	t.Helper()
	s.db.View(func(tx *bbolt.Tx) error {
		if n := inlineLeft(tx); n != 0 {
			t.Errorf("%d inline values left %s", n, what)
		}
		return nil
	})
}

// A spool written before messages had a bucket of their own keeps its
// inline bodies and copies under flat keys: they are still read,
// survive a rewrite of the record, and go with its final state or its
// deletion.
func TestInlineFlatLayout(t *testing.T) {
	dir := t.TempDir()
	flatInline = true
	defer func() { flatInline = false }()
	s := openTest(t, dir)
	now := time.Now()
	mail, mailDone, notice, _ := encryptMessage(now)
	body, enc, nbody := mail.Inline, mail.InlineCopy, notice.Inline
	if err := s.AcceptInline(mail, func(tx *bbolt.Tx) error { return PutTx(tx, notice) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	flatInline = false
	s = openTest(t, dir)
	defer s.Close()
	s.db.View(func(tx *bbolt.Tx) error {
		if n, m := tx.Bucket(bucketInline).Stats().KeyN, tx.Bucket(bucketBodies).Stats().KeyN; n != 3 || m != 0 {
			t.Errorf("old layout: %d flat values, %d in buckets", n, m)
		}
		return nil
	})
	read := func(open func() (io.ReadCloser, error)) []byte {
		t.Helper()
		rc, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return b
	}
	check := func() {
		t.Helper()
		got, err := s.Get(mail.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b := read(func() (io.ReadCloser, error) { return s.OpenBody(mail.ID) }); !bytes.Equal(b, body) {
			t.Errorf("body: %d bytes", len(b))
		}
		if b := read(func() (io.ReadCloser, error) { return s.OpenDeliverable(got) }); !bytes.Equal(b, enc) {
			t.Errorf("encrypted copy: %d bytes", len(b))
		}
		if b := read(func() (io.ReadCloser, error) { return s.OpenBody(notice.ID) }); !bytes.Equal(b, nbody) {
			t.Errorf("notice body: %d bytes", len(b))
		}
	}
	check()
	if err := s.Update(mail.ID, func(_ *bbolt.Tx, r *Record) error { r.Attempts++; return nil }); err != nil {
		t.Fatal(err)
	}
	check()
	if err := s.Replace(mailDone, func(State) error { return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.inlineValue(mail.ID, mail.InlineSuffix); !errors.Is(err, ErrNotFound) {
		t.Errorf("copy of a delivered mail: %v", err)
	}
	if err := s.Commit(func(tx *bbolt.Tx) error { return DeleteTx(tx, notice.ID) }); err != nil {
		t.Fatal(err)
	}
	expectNoInline(t, s, "after the final states")
}

// In a bucket of its own, a message's inline values are written with its
// acceptance and leave with its final state; neighbours are not touched.
func TestInlineBucketPerMessage(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	now := time.Now()
	a, aDone, an, anDone := encryptMessage(now)
	b, _, bn, _ := encryptMessage(now)
	for _, m := range [][2]*Record{{a, an}, {b, bn}} {
		if err := s.AcceptInline(m[0], func(tx *bbolt.Tx) error { return PutTx(tx, m[1]) }); err != nil {
			t.Fatal(err)
		}
	}
	s.db.View(func(tx *bbolt.Tx) error {
		if n, m := tx.Bucket(bucketInline).Stats().KeyN, tx.Bucket(bucketBodies).Stats().BucketN; n != 0 || m != 5 {
			t.Errorf("%d flat values, %d buckets (want 4 messages' and the parent)", n, m)
		}
		return nil
	})
	for _, r := range []*Record{aDone, anDone} {
		if err := s.Replace(r, func(State) error { return nil }, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*Record{a, an} {
		if _, err := s.InlineBody(r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: body of a delivered message: %v", r.Kind, err)
		}
	}
	if got, err := s.InlineBody(b.ID); err != nil || !bytes.Equal(got, b.Inline) {
		t.Errorf("neighbour's body: %d bytes, %v", len(got), err)
	}
	if got, err := s.inlineValue(b.ID, b.InlineSuffix); err != nil || !bytes.Equal(got, b.InlineCopy) {
		t.Errorf("neighbour's copy: %d bytes, %v", len(got), err)
	}
	if got, err := s.InlineBody(bn.ID); err != nil || !bytes.Equal(got, bn.Inline) {
		t.Errorf("neighbour's notice: %d bytes, %v", len(got), err)
	}
}

// A record with its report and decision appended as they are decodes as
// the one encoding/json makes (what older versions wrote and read), and
// a report that is not JSON is refused as encoding/json refused it.
func TestEncodeRecordSplice(t *testing.T) {
	now := time.Now()
	q, done := deliveredRecord(NewID(), now)
	html := *q
	html.Report = json.RawMessage(` {"subject": "<a> & \u003cb\u003e", "n": [1, 2.5e3, null, true]} `)
	html.Decision = nil
	onlyDecision := *q
	onlyDecision.Report = nil
	for _, rec := range []*Record{q, done, &html, &onlyDecision, {ID: NewID(), State: StateQueued}} {
		old, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		v, err := encodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		var a, b Record
		if err := json.Unmarshal(old, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(v, &b); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		// The same values; the raw bytes may differ in spacing.
		for _, r := range []*Record{&a, &b} {
			for _, raw := range []*json.RawMessage{&r.Report, &r.Decision} {
				if len(*raw) > 0 {
					var buf bytes.Buffer
					json.Compact(&buf, *raw)
					*raw = buf.Bytes()
				}
			}
		}
		ja, _ := json.Marshal(&a)
		jb, _ := json.Marshal(&b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("spliced record decodes differently:\n%s\n%s", ja, jb)
		}
	}
	bad := *q
	bad.Decision = json.RawMessage(`{"actions":[`)
	if _, err := encodeRecord(&bad); err == nil {
		t.Fatal("a decision that is not JSON was encoded")
	}
	// A record read back from the database is written again as it is.
	s := openTest(t, t.TempDir())
	defer s.Close()
	if err := s.Commit(func(tx *bbolt.Tx) error { return PutTx(tx, q) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBytes(got.Report, got.knownJSON[0]) || !sameBytes(got.Decision, got.knownJSON[1]) {
		t.Fatal("a record read back is not known to hold JSON")
	}
	got.State, got.FinishedAt = StateDelivered, now
	if err := s.Replace(got, func(State) error { return nil }, nil); err != nil {
		t.Fatal(err)
	}
	again, err := s.Get(q.ID)
	if err != nil || !bytes.Equal(again.Report, q.Report) || !bytes.Equal(again.Decision, q.Decision) || again.State != StateDelivered {
		t.Fatalf("after a rewrite: %v %s %s", err, again.Report, again.Decision)
	}
}
