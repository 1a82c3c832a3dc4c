package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/rules/addressee"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/spool"
)

// Learning partners from traffic: a few deliveries to a subsidiary whose
// display names carry its company teach the domain's company, kept across
// a restart (reopened database); then a quotation addressed to the parent
// but sent to the subsidiary's domain is flagged, though the directory
// lists only the parent.
func TestHistoryLearnsPartnerNamesThenFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	open := func() (*bbolt.DB, *History) {
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHistory(db)
		if err != nil {
			t.Fatal(err)
		}
		return db, h
	}
	dir, err := addressee.NewDirectory([]addressee.Company{{Name: "株式会社北海物産", Domains: []string{"hokkai.co.jp"}},
		{Name: "南海商事株式会社", Domains: []string{"nankai.co.jp"}}})
	if err != nil {
		t.Fatal(err)
	}
	analyze := func(h *History, to, body string) *spool.Record {
		t.Helper()
		insp, err := inspect.New(inspect.Config{InternalDomains: []string{"example.com"}, Partners: dir, LearnedPartners: h})
		if err != nil {
			t.Fatal(err)
		}
		msg := "From: alice@example.com\r\nTo: " + to + "\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
		rep, _, err := insp.Analyze(context.Background(), bytes.NewReader([]byte(msg)), inspect.Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(rep)
		rec := &spool.Record{Kind: spool.KindMail, Report: raw}
		for _, r := range rep.Recipients.List {
			rec.Rcpts = append(rec.Rcpts, spool.Rcpt{Addr: r.Address, Status: spool.RcptDelivered})
		}
		return rec
	}
	mismatches := func(rec *spool.Record) int {
		var rep struct{ Findings []struct{ Detector string } }
		json.Unmarshal(rec.Report, &rep)
		n := 0
		for _, f := range rep.Findings {
			if f.Detector == inspect.DetectorAddresseeMismatch {
				n++
			}
		}
		return n
	}
	const quote = "株式会社北海物産 御中\r\n\r\nお見積りをお送りします。\r\n"
	const everyday = "お世話になっております。\r\n先日の件、承知しました。\r\n"
	const subsidiary = `"佐藤 一郎 (北海物産ロジ株式会社)" <sato@hokkai-logi.co.jp>`

	db, h := open()
	if n := mismatches(analyze(h, "<buyer@hokkai-logi.co.jp>", quote)); n != 0 {
		t.Fatalf("an unknown domain was flagged before any learning (%d)", n)
	}
	deliver := func(h *History, rec *spool.Record) {
		t.Helper()
		if err := h.db.Update(func(tx *bbolt.Tx) error { return learnTx(tx, rec, time.Now()) }); err != nil {
			t.Fatal(err)
		}
	}
	// A mis-sent mail teaches nothing, however often it is delivered.
	wrong := analyze(h, `"北海物産ロジ株式会社 佐藤様" <sato@nankai.co.jp>`, quote)
	if mismatches(wrong) != 1 {
		t.Fatalf("the mis-sent mail was not flagged: %s", wrong.Report)
	}
	deliver(h, wrong)
	deliver(h, wrong)
	deliver(h, wrong)
	if got := h.NamesFor("nankai.co.jp"); len(got) != 0 {
		t.Fatalf("learned %v from mail the addressee check flagged", got)
	}

	deliver(h, analyze(h, subsidiary, everyday))
	if n := mismatches(analyze(h, "<buyer@hokkai-logi.co.jp>", quote)); n != 0 {
		t.Fatal("one delivery was enough to learn a company")
	}
	db.Close()
	db, h = open() // a restart
	deliver(h, analyze(h, subsidiary+", <kato@hokkai-logi.co.jp>", everyday))
	deliver(h, analyze(h, subsidiary, everyday))
	if got := h.NamesFor("hokkai-logi.co.jp"); len(got) != 1 || got[0] != "北海物産ロジ株式会社" {
		t.Fatalf("learned %v", got)
	}
	rec := analyze(h, "<buyer@hokkai-logi.co.jp>", quote)
	if n := mismatches(rec); n != 1 {
		t.Fatalf("after three deliveries: %d addressee mismatches, want 1 (%s)", n, rec.Report)
	}
	// The parent's own domain is still fine.
	if n := mismatches(analyze(h, "<buyer@hokkai.co.jp>", quote)); n != 0 {
		t.Fatal("the addressed company's own domain was flagged")
	}

	// Replies teach the quoted sender's signature company, even when the
	// display names carry none.
	reply := "ご連絡ありがとうございます。\r\n\r\nOn 2026/12/01, 加藤 <kato@hokkai-sys.jp> wrote:\r\n> よろしくお願いします。\r\n> --\r\n> 北海物産システム株式会社\r\n> 加藤\r\n"
	for range 3 {
		r := analyze(h, "加藤 <kato@hokkai-sys.jp>", reply)
		var rep struct {
			PartnerNames []struct{ Domain, Name string } `json:"partner_names"`
		}
		json.Unmarshal(r.Report, &rep)
		if len(rep.PartnerNames) != 1 || rep.PartnerNames[0].Name != "北海物産システム株式会社" {
			t.Fatalf("report's partner names %+v", rep.PartnerNames)
		}
		deliver(h, r)
	}
	if n := mismatches(analyze(h, "<buyer@hokkai-sys.jp>", quote)); n != 1 {
		t.Fatalf("after three replies quoting the subsidiary's signature: %d mismatches, want 1", n)
	}
	db.Close()
}
