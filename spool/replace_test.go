package spool

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// benchReport and benchDecision are what acceptance stores for a small
// encrypted mail (taken from a sendguard-bench run).
const (
	benchReport   = `{"recipients":{"total":1,"external":1,"visible_external":1,"visible_external_domains":["kaikei-office.jp"],"external_domains":["kaikei-office.jp"],"lookalike":[],"first_time_domains":[],"list":[{"address":"contact19@kaikei-office.jp","field":"to","domain":"kaikei-office.jp","external":true,"envelope":true}]},"findings":[{"detector":"email_address","count":1,"records":1,"location":"body","samples":["i***@example.com"],"why":["e-mail address syntax"],"confidence":"high"}],"attachments":[{"name":"売上集計_3789.csv","location":"attachment:売上集計_3789.csv","type":"text/csv","declared_type":"text/csv","size":3319,"encrypted":false,"depth":0}],"errors":[],"subject":"打ち合わせ日程のご相談（No.4789）","from":"ito.29@example.com","sender":"ito.29@example.com","size":6463,"people":1,"data_items":["メールアドレス"],"sender_behaviour":{"days":1,"messages":93,"established":false,"hour":12,"hour_share":1,"hour_messages":93,"per_hour":0,"day_external":93,"per_day_external":0,"day_attachment_bytes":707015,"per_day_attachment_bytes":0,"external_attachments":93}}`
	benchDecision = `{"actions":["encrypt"],"rules":["external-attachment"],"reasons":[{"rule":"external-attachment","ja":"社外宛ての添付ファイルは暗号化 ZIP に変換して送信しました。パスワードは送信者に別途通知します。","en":"Attachments to external recipients were sent as an encrypted zip. The password is sent to the sender separately."}],"params":{"encrypt_password":"sender"}}`
)

// deliveredRecord is a queued mail with a report, and the same record
// after an attempt that delivered it.
func deliveredRecord(id string, now time.Time) (queued, done *Record) {
	queued = &Record{ID: id, Kind: KindMail, State: StateQueued, MailFrom: "ito.29@example.com",
		Rcpts: []Rcpt{{Addr: "contact19@kaikei-office.jp", Status: RcptPending}}, Size: 6463,
		SHA256: "b1587f9c049f67738ce2fbae68e3cd1be97e9f2dd1a368ea77f17a9f46f76c6f", MessageID: "<sg.03789@bench.sendguard.test>",
		Subject: "打ち合わせ日程のご相談（No.4789）", ReceivedAt: now, ClientIP: "127.0.0.1", Helo: "client.bench.test",
		NextAttempt: now, Expires: now.Add(120 * time.Hour), EightBit: true,
		Report: json.RawMessage(benchReport), Decision: json.RawMessage(benchDecision), Applied: []string{"encrypt"},
		BodySuffix: "enc-inline", InlineBody: true, InlineSuffix: "enc-inline"}
	d := *queued
	d.Rcpts = []Rcpt{{Addr: "contact19@kaikei-office.jp", Status: RcptDelivered, Code: 250, Enhanced: "2.0.0",
		Message: "OK: queued", Remote: "127.0.0.1[127.0.0.1]", FromPeer: true, Updated: now}}
	d.Attempts, d.State, d.FinishedAt = 1, StateDelivered, now
	return queued, &d
}

func TestReplace(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	now := time.Now()
	q, done := deliveredRecord(NewID(), now)
	if err := s.Commit(func(tx *bbolt.Tx) error { return PutTx(tx, q) }); err != nil {
		t.Fatal(err)
	}
	errRefused := errors.New("refused")
	// A refused state writes nothing, extra included.
	ran := false
	err := s.Replace(done, func(st State) error {
		if st != StateDelivered {
			return errRefused
		}
		return nil
	}, func(*bbolt.Tx) error { ran = true; return nil })
	if !errors.Is(err, errRefused) || ran {
		t.Fatalf("refused replace: err %v, extra ran %v", err, ran)
	}
	if got, _ := s.Get(q.ID); got.State != StateQueued {
		t.Fatalf("state after refused replace = %s", got.State)
	}
	if ids, _, _ := s.Due(now, 10); len(ids) != 1 {
		t.Fatalf("due after refused replace = %v", ids)
	}
	var seen State
	err = s.Replace(done, func(st State) error { seen = st; return nil }, func(*bbolt.Tx) error { ran = true; return nil })
	if err != nil || seen != StateQueued || !ran {
		t.Fatalf("replace: err %v, state seen %s, extra ran %v", err, seen, ran)
	}
	got, err := s.Get(q.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(done)
	if have, _ := json.Marshal(got); string(have) != string(want) {
		t.Fatalf("stored record\n%s\nwant\n%s", have, want)
	}
	if ids, _, _ := s.Due(now.Add(time.Hour), 10); len(ids) != 0 {
		t.Fatalf("due after replace = %v", ids)
	}
	if c, _ := s.Counts(); c[StateQueued] != 0 || c[StateDelivered] != 1 {
		t.Fatalf("counts after replace = %v", c)
	}
	if err := s.Replace(&Record{ID: NewID()}, func(State) error { return nil }, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replace of a missing record: %v", err)
	}
}

// BenchmarkFinishTx compares, inside one transaction, what committing an
// attempt's result costs: decoding the whole stored record to check its
// state (Update, as before) against decoding its state alone (Replace).
func BenchmarkFinishTx(b *testing.B) {
	run := func(b *testing.B, fn func(tx *bbolt.Tx, done *Record) error) {
		s := openTest(b, b.TempDir())
		defer s.Close()
		q, done := deliveredRecord(NewID(), time.Now())
		v, _ := json.Marshal(q)
		// One transaction, never committed: the fsyncs are the same
		// either way. Each round puts the queued record back as bytes.
		tx, err := s.db.Begin(true)
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback()
		if err := PutTx(tx, q); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := tx.Bucket(bucketMsgs).Put([]byte(q.ID), v); err != nil {
				b.Fatal(err)
			}
			if err := fn(tx, done); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("update", func(b *testing.B) {
		run(b, func(tx *bbolt.Tx, done *Record) error {
			cur, err := GetTx(tx, done.ID)
			if err != nil {
				return err
			}
			prev := indexed{cur.State, cur.NextAttempt}
			if cur.State != StateQueued {
				return errors.New("stale")
			}
			*cur = *done
			return putTx(tx, cur, &prev)
		})
	})
	b.Run("replace", func(b *testing.B) {
		run(b, func(tx *bbolt.Tx, done *Record) error {
			prev, err := getIndexedTx(tx, done.ID)
			if err != nil {
				return err
			}
			if prev.State != StateQueued {
				return errors.New("stale")
			}
			return putTx(tx, done, &prev)
		})
	})
}

// BenchmarkFoldDecode compares decoding a whole record with decoding only
// its indexed fields (encoding/json, peekIndexed) or the state and
// recipients that placing a delivery mark needs.
func BenchmarkFoldDecode(b *testing.B) {
	q, _ := deliveredRecord(NewID(), time.Now())
	v, _ := json.Marshal(q)
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil || len(r.Rcpts) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("indexed-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p indexed
			if err := json.Unmarshal(v, &p); err != nil || p.State != StateQueued {
				b.Fatal(err)
			}
		}
	})
	b.Run("indexed-peek", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, ok := peekIndexed(v); !ok || p.State != StateQueued {
				b.Fatal("peek failed")
			}
		}
	})
	b.Run("rcpt-view", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r rcptView
			if err := json.Unmarshal(v, &r); err != nil || !r.pending("contact19@kaikei-office.jp") {
				b.Fatal(err)
			}
		}
	})
}
