package disposition

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/rules/extract"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// TestMain lets the test binary serve as its own PDF extraction worker.
func TestMain(m *testing.M) {
	extract.ServeWorker()
	os.Exit(m.Run())
}

// largeMails are messages over spool.MaxInline of the shapes that take the
// early analysis in the gateway: long prose, a Shift_JIS customer list, a
// broken MIME structure that the tolerant parser reads again from the
// start (seeking back in the tail), and a base64 file cut short.
func largeMails(t *testing.T) map[string][]byte {
	t.Helper()
	var prose strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&prose, "第%d期の業務報告です。担当者にご確認ください。\r\n", i)
	}
	prose.WriteString("お客様のマイナンバー 1234 5678 9018 をお送りします。\r\n")
	var csv strings.Builder
	csv.WriteString("氏名,電話番号,住所\r\n")
	for i := range 4000 {
		fmt.Fprintf(&csv, "山田%d,090-%04d-%04d,東京都千代田区丸の内%d-1\r\n", i, i%10000, (i*7)%10000, i%9+1)
	}
	sjis, _, err := transform.String(japanese.ShiftJIS.NewEncoder(), csv.String())
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(sjis))
	var wrapped strings.Builder
	for len(b64) > 76 {
		wrapped.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	wrapped.WriteString(b64 + "\r\n")
	head := "From: alice@example.com\r\nTo: bob@partner.test\r\nSubject: =?UTF-8?B?5aCx5ZGK?=\r\nMessage-ID: <big@example.com>\r\nMIME-Version: 1.0\r\n"
	multi := head + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nリストです。\r\n" +
		"--b1\r\nContent-Type: text/csv; name=\"list.csv\"\r\nContent-Disposition: attachment; filename=\"list.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrapped.String()
	return map[string][]byte{
		"prose":             []byte(head + "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + prose.String()),
		"sjis-csv":          []byte(multi + "--b1--\r\n"),
		"no-final-boundary": []byte(multi),
		"cut-base64":        []byte(multi[:len(multi)-100] + "\r\n--b1--\r\n"),
	}
}

// newDefaultInspector is a spool and the default policy's inspector.
func newDefaultInspector(t *testing.T) (*spool.Store, *PolicyInspector) {
	t.Helper()
	store, err := spool.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := inspect.New(inspect.Config{InternalDomains: []string{"example.com"}, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	return store, &PolicyInspector{Rules: rules, Log: slog.New(slog.DiscardHandler)}
}

// The analysis begun on the tail of a body still being written decides as
// the analysis of the whole body after its last byte does: the same report
// and decision, for every fixture of the rules and large messages, written
// in chunks of random size with pauses that make the reader wait.
func TestEarlyAnalysisMatchesAnalysisAfter(t *testing.T) {
	store, p := newDefaultInspector(t)
	mails := largeMails(t)
	files, _ := filepath.Glob("../../testdata/rules/*.eml")
	if len(files) < 10 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mails[filepath.Base(f)] = b
	}
	rng := rand.New(rand.NewPCG(3, 4))
	arrival := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for name, data := range mails {
		id := spool.NewID()
		bw, err := store.Create(id) // on file from the first byte, whatever its size
		if err != nil {
			t.Fatal(err)
		}
		tr, err := bw.Tail()
		if err != nil {
			t.Fatal(err)
		}
		env := &gateway.Envelope{QueueID: id, MailFrom: "alice@example.com",
			Rcpts: []spool.Rcpt{{Addr: "bob@partner.test"}, {Addr: "carol@example.com"}}}
		in := &Inbound{Env: env, Store: store, Arrival: arrival, Size: int64(len(data))}
		e := p.Begin(in, tr)
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(20_000))
			if _, err := bw.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
			if rng.IntN(4) == 0 {
				time.Sleep(50 * time.Microsecond)
			}
		}
		if _, err := bw.Commit(); err != nil {
			t.Fatal(err)
		}
		in.Early = e
		early, err := p.Inspect(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: early: %v", name, err)
		}
		after, err := p.Inspect(context.Background(), &Inbound{Env: env, Store: store, Arrival: arrival, Size: int64(len(data))})
		if err != nil {
			t.Fatalf("%s: after: %v", name, err)
		}
		if !bytes.Equal(early.Report, after.Report) || !bytes.Equal(early.Decision, after.Decision) ||
			early.MessageID != after.MessageID {
			t.Errorf("%s: the early analysis differs:\n%s\n%s\nagainst\n%s\n%s", name, early.Report, early.Decision,
				after.Report, after.Decision)
		}
		store.RemoveBody(id)
	}
	// The large mails found what they carry, so the comparison compared
	// something.
	for _, name := range []string{"prose", "sjis-csv"} {
		if !strings.Contains(string(mustReport(t, p, store, mails[name])), `"detector"`) {
			t.Errorf("%s: no finding", name)
		}
	}
}

// mustReport is the report of data analysed after its last byte.
func mustReport(t *testing.T, p *PolicyInspector, store *spool.Store, data []byte) []byte {
	t.Helper()
	id := spool.NewID()
	bw, err := store.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write(data)
	if _, err := bw.Commit(); err != nil {
		t.Fatal(err)
	}
	defer store.RemoveBody(id)
	env := &gateway.Envelope{QueueID: id, MailFrom: "alice@example.com", Rcpts: []spool.Rcpt{{Addr: "bob@partner.test"}}}
	v, err := p.Inspect(context.Background(), &Inbound{Env: env, Store: store, Arrival: time.Now(), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	return v.Report
}

// An early analysis stops when the body is discarded, and when the wait
// for it ends first.
func TestEarlyAnalysisStops(t *testing.T) {
	store, p := newDefaultInspector(t)
	start := func() (*spool.BodyWriter, *Inbound) {
		id := spool.NewID()
		bw, err := store.Create(id)
		if err != nil {
			t.Fatal(err)
		}
		bw.Write([]byte("From: a@example.com\r\nTo: b@partner.test\r\nSubject: x\r\n\r\nhello\r\n"))
		tr, err := bw.Tail()
		if err != nil {
			t.Fatal(err)
		}
		env := &gateway.Envelope{QueueID: id, MailFrom: "a@example.com", Rcpts: []spool.Rcpt{{Addr: "b@partner.test"}}}
		in := &Inbound{Env: env, Store: store, Arrival: time.Now()}
		in.Early = p.Begin(in, tr)
		return bw, in
	}
	bounded := func(what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { f(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still waiting", what)
		}
	}

	bw, in := start()
	bw.Abort()
	bounded("abort", func() {
		if _, err := p.Inspect(context.Background(), in); err == nil {
			t.Error("a discarded body was inspected")
		}
	})

	bw, in = start()
	defer bw.Abort()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	bounded("timeout", func() {
		if _, err := p.Inspect(ctx, in); err == nil {
			t.Error("an analysis still waiting for its bytes returned a verdict")
		}
	})
	bounded("stop again", in.Early.Stop)
}
