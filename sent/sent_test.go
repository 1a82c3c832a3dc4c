package sent

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/templates"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	st    *Store
	audit *hold.Store
	kit   *Kit
	mails map[string][]byte
	now   time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hs, err := hold.New(db, hold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := &Store{DB: db, Retention: 30 * 24 * time.Hour}
	if err := st.Init(); err != nil {
		t.Fatal(err)
	}
	cat, err := templates.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, audit: hs, mails: map[string][]byte{}, now: t0}
	e.kit = &Kit{Store: st, Audit: hs, Catalog: cat, BaseURL: "https://gw.example.com/", From: "sendguard@example.com",
		ConfirmTTL: 48 * time.Hour, Location: time.UTC, Now: func() time.Time { return e.now },
		Internal: func(d string) bool { return d == "example.com" },
		Mail:     func(_ context.Context, to string, msg []byte) error { e.mails[to] = msg; return nil }}
	return e
}

const csv = "氏名,電話番号\r\n山田 太郎,090-1111-2222\r\n"

// spooled is a finished spool record as the delivery runner has it.
func spooled(id string, delivered ...string) (*spool.Record, string) {
	rep := rules.Report{From: "alice@example.com", Subject: "顧客リスト", People: 1, DataItems: []string{"氏名", "電話番号"},
		Findings:   []rules.Finding{{Detector: "jp_phone", Count: 1, Records: 1, Location: "attachment:list.csv", Samples: []string{"090-****-2222"}}},
		Recipients: rules.Recipients{List: []rules.Recipient{{Address: "a@partner.test", Field: "to"}, {Address: "b@partner.test", Field: "cc"}}}}
	rj, _ := json.Marshal(rep)
	rec := &spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateDelivered, MailFrom: "alice@example.com",
		ReceivedAt: t0.Add(-time.Minute), Report: rj, Decision: json.RawMessage(`{"actions":["deliver"],"rules":[]}`)}
	for _, a := range []string{"a@partner.test", "b@partner.test", "c@partner.test"} {
		rc := spool.Rcpt{Addr: a, Status: spool.RcptFailed, Code: 550, Message: "no such user"}
		for _, d := range delivered {
			if d == a {
				rc = spool.Rcpt{Addr: a, Status: spool.RcptDelivered, Code: 250, Message: "2.0.0 Ok: queued as X"}
			}
		}
		rec.Rcpts = append(rec.Rcpts, rc)
	}
	body := "From: alice@example.com\r\nTo: a@partner.test\r\nSubject: x\r\nDate: Tue, 1 Dec 2026 18:00:00 +0900\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n" +
		"Content-Type: text/csv\r\nContent-Disposition: attachment; filename=\"list.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(csv)) + "\r\n--b--\r\n"
	return rec, body
}

func (e *env) put(t *testing.T, r *Record) {
	t.Helper()
	if err := e.st.DB.Update(func(tx *bbolt.Tx) error { return e.st.PutTx(tx, r) }); err != nil {
		t.Fatal(err)
	}
}

func TestPrepareKeepsWhatLeft(t *testing.T) {
	sp, body := spooled("Q1", "a@partner.test", "b@partner.test")
	r := Prepare(sp, t0, strings.NewReader(body))
	sum := sha256.Sum256([]byte(csv))
	if len(r.Attachments) != 1 || r.Attachments[0].Name != "list.csv" || r.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("attachments %+v", r.Attachments)
	}
	if r.People != 1 || len(r.Findings) != 1 || r.Findings[0].Samples[0] != "090-****-2222" || r.Date == "" {
		t.Fatalf("record %+v", r)
	}
	if got := r.Delivered(); len(got) != 2 || r.Rcpts[2].Reply != "no such user" {
		t.Fatalf("delivered %v, rcpts %+v", got, r.Rcpts)
	}
	if !Wanted(sp) {
		t.Error("a delivered mail is not recorded")
	}
	sp.State = spool.StateQueued // b@ still waits: recorded all the same
	if !Wanted(sp) {
		t.Error("a mail delivered to some recipients is not recorded")
	}
	sp.Kind = spool.KindNotice
	if Wanted(sp) {
		t.Error("a notice is recorded as sent mail")
	}
}

func TestFindAndPurge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i, sub := range []string{"old one", "顧客リスト", "newest"} {
		sp, body := spooled("Q"+string(rune('A'+i)), "a@partner.test")
		r := Prepare(sp, t0.Add(time.Duration(i)*24*time.Hour), strings.NewReader(body))
		r.Subject = sub
		e.put(t, r)
	}
	all, err := e.st.Find(ctx, Query{})
	if err != nil || len(all) != 3 || all[0].Subject != "newest" {
		t.Fatalf("find all: %v %d", err, len(all))
	}
	for q, want := range map[*Query]int{
		{Domain: "PARTNER.test"}: 3, {Domain: "other.test"}: 0, {Recipient: "a@partner"}: 3, {Subject: "顧客"}: 1,
		{Detector: "jp_phone"}: 3, {Detector: "mynumber"}: 0, {Sender: "alice"}: 3,
		{Since: t0.Add(12 * time.Hour)}: 2, {Until: t0.Add(12 * time.Hour)}: 1, {Limit: 2}: 2,
	} {
		got, err := e.st.Find(ctx, *q)
		if err != nil || len(got) != want {
			t.Errorf("find %+v: %d, want %d (%v)", *q, len(got), want, err)
		}
	}
	// The oldest record has an incident with a live token: the purge takes both.
	if _, err := e.kit.RequestDeletion(ctx, "QA", "ja", hold.Actor{Name: "rita", Role: "reviewer"}); err != nil {
		t.Fatal(err)
	}
	n, err := e.st.Purge(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if _, _, err := e.st.Incident(ctx, "QA"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("purged record: %v", err)
	}
	e.st.DB.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketTokens).Cursor().First(); k != nil {
			t.Error("a purged record's confirm token survived")
		}
		return nil
	})
	if got, _ := e.st.Find(ctx, Query{}); len(got) != 2 {
		t.Errorf("after purge %d records", len(got))
	}
}

var linkRE = regexp.MustCompile(`https://gw\.example\.com/del/([A-Za-z0-9_-]{43})`)

func TestDeletionRequestsAndConfirm(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sp, body := spooled("Q1", "a@partner.test", "b@partner.test") // c@ failed: never reached
	e.put(t, Prepare(sp, t0, strings.NewReader(body)))
	rita := hold.Actor{Name: "rita", Role: "reviewer", IP: "192.0.2.1"}
	n, err := e.kit.RequestDeletion(ctx, "Q1", "ja", rita)
	if err != nil || n != 2 {
		t.Fatalf("request: %d %v", n, err)
	}
	if _, ok := e.mails["c@partner.test"]; ok || len(e.mails) != 2 {
		t.Fatalf("deletion requests went to %d addresses, c@ included: %v", len(e.mails), ok)
	}
	tokA := linkRE.FindStringSubmatch(strings.ReplaceAll(string(e.mails["a@partner.test"]), "=\r\n", ""))
	if tokA == nil {
		t.Fatalf("no confirm link:\n%s", e.mails["a@partner.test"])
	}
	if strings.Contains(string(e.mails["a@partner.test"]), "b@partner.test") {
		t.Error("a's request names b")
	}
	// The page: GET shows, POST confirms once; an unknown token says the same as a used one.
	h := e.kit.ConfirmHandler("/")
	do := func(method, tok string) (int, string) {
		req := httptest.NewRequest(method, "/del/"+tok, nil)
		req.Header.Set("Accept-Language", "en")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	if code, page := do("GET", tokA[1]); code != 200 || !strings.Contains(page, "a@partner.test") || strings.Contains(page, "b@partner.test") {
		t.Fatalf("GET: %d\n%s", code, page)
	}
	if code, page := do("POST", tokA[1]); code != 200 || !strings.Contains(page, `id="done"`) {
		t.Fatalf("POST: %d\n%s", code, page)
	}
	code1, used := do("POST", tokA[1])
	code2, unknown := do("POST", strings.Repeat("A", 43))
	if code1 != http.StatusNotFound || used != unknown {
		t.Fatalf("second POST: %d; used and unknown pages differ: %v", code1, used != unknown || code2 != code1)
	}
	_, in, _ := e.st.Incident(ctx, "Q1")
	if in.Confirmed() != 1 || in.Requests[0].ConfirmedAt.IsZero() || !in.Requests[1].ConfirmedAt.IsZero() {
		t.Fatalf("incident %+v", in)
	}
	// A second round goes only to who has not confirmed; b's old link stops working.
	tokB := linkRE.FindStringSubmatch(strings.ReplaceAll(string(e.mails["b@partner.test"]), "=\r\n", ""))
	clear(e.mails)
	if n, err := e.kit.RequestDeletion(ctx, "Q1", "en", rita); err != nil || n != 1 || e.mails["b@partner.test"] == nil {
		t.Fatalf("second round: %d %v %v", n, err, e.mails)
	}
	if code, _ := do("GET", tokB[1]); code != http.StatusNotFound {
		t.Error("an earlier request's link still works")
	}
	// Expiry.
	tokB2 := linkRE.FindStringSubmatch(strings.ReplaceAll(string(e.mails["b@partner.test"]), "=\r\n", ""))
	e.now = e.now.Add(49 * time.Hour)
	if code, _ := do("POST", tokB2[1]); code != http.StatusNotFound {
		t.Error("an expired link confirmed")
	}
	evs, _ := e.audit.Events(ctx, "Q1")
	var acts []string
	for _, ev := range evs {
		acts = append(acts, ev.Action+"/"+ev.Actor.Name)
	}
	want := []string{"incident_opened/rita", "incident_deletion_requested/rita", "incident_deletion_confirmed/a@partner.test", "incident_deletion_requested/rita"}
	if strings.Join(acts, " ") != strings.Join(want, " ") {
		t.Errorf("audit %v, want %v", acts, want)
	}
}

func TestDraftAndEvidence(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sp, body := spooled("Q1", "a@partner.test", "b@partner.test")
	r := Prepare(sp, t0, strings.NewReader(body))
	r.People, r.PeopleApproximate = 23456, true
	e.put(t, r)
	rita := hold.Actor{Name: "rita", Role: "reviewer"}
	if _, err := e.kit.RevokeLinks(ctx, "Q1", rita); err != nil {
		t.Fatal(err)
	}
	d, err := e.kit.Draft(ctx, "Q1", "ja", rita)
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]Field{}
	for _, x := range d.Fields {
		f[x.Key] = x
	}
	if !d.Reportable || f["people"].Value != "約23,000人（推計）" || f["items"].Value != "氏名、電話番号" ||
		!strings.Contains(f["summary"].Value, "partner.test（2件の宛先）") || !f["prevention"].ToFill || f["cause"].ToFill ||
		!strings.Contains(f["response"].Value, "未送信") {
		t.Fatalf("draft %+v", d.Fields)
	}
	ev, err := e.kit.Evidence(ctx, "Q1", rita)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.EventsOK || ev.ChainError != "" || ev.ChainVerified < 3 || len(ev.Events) < 3 || ev.Record.Attachments[0].SHA256 == "" {
		t.Fatalf("evidence %+v", ev)
	}
	// A tampered event no longer verifies.
	ev.Events[0].Reason = "changed"
	if EventsIntact(ev.Events) {
		t.Error("a changed event verifies")
	}
	if _, err := e.kit.Draft(ctx, "NOPE", "ja", rita); !errors.Is(err, ErrNotFound) {
		t.Errorf("draft of an unknown message: %v", err)
	}
}

// A request whose mail cannot be queued stays unsent, and the audit event
// says so.
func TestDeletionRequestMailFails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sp, body := spooled("Q1", "a@partner.test", "b@partner.test")
	e.put(t, Prepare(sp, t0, strings.NewReader(body)))
	e.kit.Mail = func(_ context.Context, to string, msg []byte) error {
		if to == "b@partner.test" {
			return errors.New("disk full")
		}
		e.mails[to] = msg
		return nil
	}
	n, err := e.kit.RequestDeletion(ctx, "Q1", "en", hold.Actor{Name: "rita"})
	if n != 1 || err == nil {
		t.Fatalf("request: %d %v", n, err)
	}
	_, in, _ := e.st.Incident(ctx, "Q1")
	for _, r := range in.Requests {
		if (r.Rcpt == "b@partner.test") != r.SentAt.IsZero() {
			t.Errorf("%s sent at %v", r.Rcpt, r.SentAt)
		}
	}
	evs, _ := e.audit.Events(ctx, "Q1")
	if last := evs[len(evs)-1]; last.Action != "incident_deletion_requested" || !strings.Contains(last.Reason, "1 could not be queued") {
		t.Errorf("audit %+v", last)
	}
}

// The sender's report link opens the incident once, as the sender; it is
// no deletion confirmation, and a confirm link is no report.
func TestSenderReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sp, body := spooled("Q1", "a@partner.test")
	r := Prepare(sp, t0, strings.NewReader(body))
	e.put(t, r)
	if err := e.kit.SendReceipt(ctx, r, "ja", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := e.kit.SendReceipt(ctx, r, "ja", time.Hour); err != nil || len(e.mails) != 1 {
		t.Fatalf("second receipt: %v, %d mails", err, len(e.mails))
	}
	m := regexp.MustCompile(`https://gw\.example\.com/rep/([A-Za-z0-9_-]{43})`).FindStringSubmatch(strings.ReplaceAll(string(e.mails["alice@example.com"]), "=\r\n", ""))
	if m == nil {
		t.Fatalf("no report link:\n%s", e.mails["alice@example.com"])
	}
	if _, err := e.st.Confirm(m[1], "", e.now, e.audit); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("a report link confirmed a deletion: %v", err)
	}
	if _, err := e.st.Report(m[1], "192.0.2.9", e.now, e.audit); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Report(m[1], "192.0.2.9", e.now, e.audit); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("a report link worked twice: %v", err)
	}
	_, in, _ := e.st.Incident(ctx, "Q1")
	if in == nil || in.OpenedBy != "alice@example.com" || in.ReportedBySender.IsZero() {
		t.Fatalf("incident %+v", in)
	}
	n, err := e.kit.RequestDeletion(ctx, "Q1", "ja", hold.Actor{Name: "rita"})
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	tok := linkRE.FindStringSubmatch(strings.ReplaceAll(string(e.mails["a@partner.test"]), "=\r\n", ""))
	if _, err := e.st.Report(tok[1], "", e.now, e.audit); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("a confirm link reported: %v", err)
	}
	// The purge sweeps the message's tokens with it.
	if n, err := e.st.Purge(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	e.st.DB.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketTokens).Cursor().First(); k != nil {
			t.Error("tokens survived the purge")
		}
		if k, _ := tx.Bucket(bucketIncidents).Cursor().First(); k != nil {
			t.Errorf("incident state survived the purge: %q", k)
		}
		return nil
	})
}

// A kept body is encrypted on disk, reads back for an admin (audited) and
// goes with its record's purge.
func TestKeptBody(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret, err := atrest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	e.st.Key, err = atrest.NewMasterKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	e.st.BodyDir = t.TempDir()
	id := spool.NewID()
	sp, body := spooled(id, "a@partner.test")
	if err := e.st.SaveBody(id, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	r := Prepare(sp, t0, strings.NewReader(body))
	r.BodyKept = true
	e.put(t, r)
	raw, err := os.ReadFile(e.st.BodyFile(id))
	if err != nil || strings.Contains(string(raw), "list.csv") || strings.Contains(string(raw), "alice@example.com") {
		t.Fatalf("kept body on disk is not encrypted (%v)", err)
	}
	rc, err := e.kit.Body(ctx, id, hold.Actor{Name: "adam", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != body {
		t.Fatal("kept body differs")
	}
	evs, _ := e.audit.Events(ctx, id)
	if len(evs) != 1 || evs[0].Action != "incident_body_downloaded" || evs[0].Actor.Name != "adam" {
		t.Fatalf("audit %+v", evs)
	}
	if n, err := e.st.Purge(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if _, err := os.Stat(e.st.BodyFile(id)); !os.IsNotExist(err) {
		t.Fatalf("kept body survived the purge: %v", err)
	}
}

func TestPrepareWithoutBodyKeepsReportAttachments(t *testing.T) {
	sp, _ := spooled("Q1", "a@partner.test")
	rep := rules.Report{From: "alice@example.com", Attachments: []rules.Attachment{
		{Name: "list.csv", Type: "text/csv", Size: 12}, {Name: "inner.txt", Size: 3, Depth: 1}}}
	sp.Report, _ = json.Marshal(rep)
	r := Prepare(sp, t0, nil)
	want := []Attachment{{Name: "list.csv", Type: "text/csv", Size: 12}}
	if !reflect.DeepEqual(r.Attachments, want) || r.From != "alice@example.com" {
		t.Fatalf("attachments %+v, from %q", r.Attachments, r.From)
	}
}
