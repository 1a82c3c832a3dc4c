package reports

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// sample is a realistic analysed message: an external mail with a
// spreadsheet of personal data.
func sample(i int) *rules.Report {
	return &rules.Report{
		Sender: fmt.Sprintf("user%d@corp.example.com", i%50), From: fmt.Sprintf("user%d@corp.example.com", i%50),
		Subject: "見積書の件", Size: 48213,
		Recipients: rules.Recipients{
			Total: 3, External: 2, VisibleExternal: 1,
			ExternalDomains: []string{"client.example.net", "partner.example.org"}, VisibleExternalDomains: []string{"client.example.net"},
			FirstTimeDomains: []string{"partner.example.org"}, Lookalike: []rules.Lookalike{},
			List: []rules.Recipient{
				{Address: "tanaka@client.example.net", Name: "田中", Field: "to", Domain: "client.example.net", External: true, Envelope: true},
				{Address: "sato@partner.example.org", Field: "bcc", Domain: "partner.example.org", External: true, Envelope: true},
				{Address: "boss@corp.example.com", Field: "cc", Domain: "corp.example.com", Envelope: true},
			},
		},
		Findings: []rules.Finding{
			{Detector: "mynumber", Count: 12, Records: 12, Location: "attachment:顧客名簿.xlsx", Samples: []string{"1234********"}},
			{Detector: "phone", Count: 1, Location: "body", Samples: []string{"03-****-5678"}},
			{Detector: "keyword", Count: 1, Location: "subject", Dictionary: "confidential", Level: "high", Samples: []string{"社外秘"}},
		},
		Attachments: []rules.Attachment{
			{Name: "顧客名簿.xlsx", Location: "attachment:顧客名簿.xlsx", Type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
				DeclaredType: "application/octet-stream", Size: 30211},
		},
		Errors:          []string{"malformed header: X-Foo"},
		SenderDirectory: &rules.SenderDirectory{Status: "found", Department: "営業部", Groups: []string{"sales", "tokyo"}, Manager: "boss@corp.example.com"},
		// values the stored rounding keeps exactly
		SenderBehaviour: &rules.SenderBehaviour{Days: 12, Messages: 340, Established: true, Hour: 2, HourShare: 0.0123,
			HourMessages: 4, PerHour: 1.5, DayExternal: 7, PerDayExternal: 3.25, DayAttachmentBytes: 5 << 20,
			PerDayAttachmentBytes: 1 << 20, ExternalAttachments: 0},
	}
}

func TestRoundTripKeepsWhatPoliciesRead(t *testing.T) {
	rep := sample(7)
	d := policy.Decision{Actions: []string{"hold_review"}, Rules: []string{"pii"}, Shadow: []policy.Shadow{{Rule: "try", Actions: []string{"reject"}}}}
	at := time.Date(2026, 12, 1, 9, 30, 0, 123, time.UTC)
	st := FromAnalysis("Q123", at, rep, &d)
	raw := Marshal(st)
	t.Logf("bytes per stored report: %d (JSON of the full report: %d)", len(raw), len(mustJSON(t, rep)))
	if len(raw) > 450 {
		t.Errorf("stored report is %d bytes, want a few hundred at most", len(raw))
	}
	for _, secret := range []string{"1234", "03-", "社外秘", "見積", "顧客", "tanaka", "sato", "田中", "X-Foo"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("stored report contains %q", secret)
		}
	}
	got, err := Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(at) {
		t.Fatalf("time %v, want %v", got.Time, at)
	}
	got.Time = st.Time
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, st)
	}

	// Conditions over what is kept evaluate as they did live.
	conds := []string{
		`finding("mynumber") > 10`,
		`finding("mynumber", "attachment:") > 0`,
		`finding("keyword:high", "subject") > 0`,
		`finding("phone", "body") == 1`,
		`records() >= 12`,
		`has_attachment(".xlsx")`,
		`!has_attachment(".pdf")`,
		`recipients.external == 2 && "partner.example.org" in recipients.first_time_domains`,
		`recipients.list.exists(r, r.field == "bcc" && r.external)`,
		`sender.endsWith("@corp.example.com") && from == sender`,
		`size(errors) == 1`,
		`sender.department == "営業部" && "sales" in sender.groups && sender.directory == "found"`,
		`sender.manager == "boss@corp.example.com"`,
		`attachments.exists(a, a.size > 30000 && a.declared_type == "application/octet-stream")`,
		`sender.unusual_hour() && sender.first_external_attachment() && sender.history_days() == 12`,
		`sender.volume_ratio() == 5.0 / 1.5 && sender.volume_ratio("external_recipients") == 9.0 / 3.25`,
	}
	live, replayed := rep, got.ToRules()
	for _, c := range conds {
		p := mustPolicy(t, "rules:\n  - name: r\n    when: '"+c+"'\n    actions: [hold_review]\n    reason: x\n")
		a, b := p.Evaluate(live), p.Evaluate(replayed)
		if !reflect.DeepEqual(a.Actions, b.Actions) || a.Actions[0] != "hold_review" || len(b.Errors) > 0 {
			t.Errorf("%s: live %v, replayed %v %v", c, a.Actions, b.Actions, b.Errors)
		}
	}
}

func TestUnmarshalRejectsCorruptRecords(t *testing.T) {
	d := policy.Decision{Actions: []string{"deliver"}}
	raw := Marshal(FromAnalysis("Q1", time.Now(), sample(1), &d))
	noBehaviour := sample(1)
	noBehaviour.SenderBehaviour = nil
	// Optional sections are additive: a record cut exactly before one is
	// a record without it (the stream's length prefix catches that cut).
	boundary := len(Marshal(FromAnalysis("Q1", time.Now(), noBehaviour, &d)))
	for i := range raw {
		if i == boundary {
			continue
		}
		if _, err := Unmarshal(raw[:i]); err == nil {
			t.Fatalf("truncated at %d decoded", i)
		}
	}
	if _, err := Unmarshal(append(raw, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	// A count that would make ToRules allocate without bound.
	if _, err := Unmarshal(Marshal(&Report{Errors: maxErrors})); err != nil {
		t.Fatal(err)
	}
	raw = Marshal(&Report{Time: time.Unix(0, 0), Errors: 0x7f})
	i := bytes.IndexByte(raw, 0x7f)
	bad := append(append(append([]byte(nil), raw[:i]...), binary.AppendUvarint(nil, 1<<30)...), raw[i+1:]...)
	if _, err := Unmarshal(bad); err == nil {
		t.Fatal("error count of 2^30 accepted")
	}
}

// A section of a later version is skipped; the known fields still read.
func TestUnknownSectionSkipped(t *testing.T) {
	d := policy.Decision{Actions: []string{"deliver"}}
	st := FromAnalysis("Q1", time.Unix(1e9, 0), sample(1), &d)
	raw := Marshal(st)
	raw = append(raw, 9, 3, 1, 2, 3) // tag 9, three bytes
	got, err := Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Behaviour, st.Behaviour) || got.Sender != st.Sender {
		t.Fatalf("got %+v", got)
	}
	if _, err := Unmarshal(append(raw, 9, 5, 1)); err == nil {
		t.Fatal("section longer than the record accepted")
	}
}

func FuzzUnmarshal(f *testing.F) {
	d := policy.Decision{Actions: []string{"deliver"}}
	f.Add(Marshal(FromAnalysis("Q1", time.Now(), sample(1), &d)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := Unmarshal(b); err == nil {
			r.ToRules()
		}
	})
}

func openDB(t testing.TB) *Bolt {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "r.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &Bolt{DB: db}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t testing.TB, s *Bolt, rs ...*Report) {
	t.Helper()
	err := s.DB.Update(func(tx *bbolt.Tx) error {
		for _, r := range rs {
			if err := s.PutTx(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoreScanAndPurge(t *testing.T) {
	s := openDB(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var rs []*Report
	for i := range 10 {
		rs = append(rs, &Report{QueueID: fmt.Sprintf("Q%02d", i), Time: base.Add(time.Duration(i) * 24 * time.Hour), Actions: []string{"deliver"}})
	}
	put(t, s, rs...)
	var ids []string
	if _, err := s.Scan(ctx, base.Add(7*24*time.Hour), func(r *Report) error { ids = append(ids, r.QueueID); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "Q07,Q08,Q09" {
		t.Fatalf("scan since day 7: %v", ids)
	}
	n, err := s.Purge(ctx, base.Add(5*24*time.Hour))
	if err != nil || n != 5 {
		t.Fatalf("purge = %d, %v; want 5", n, err)
	}
	ids = nil
	s.Scan(ctx, time.Time{}, func(r *Report) error { ids = append(ids, r.QueueID); return nil })
	if strings.Join(ids, ",") != "Q05,Q06,Q07,Q08,Q09" {
		t.Fatalf("after purge: %v", ids)
	}
}

// The README's shadow rule example loads and is a shadow rule.
func TestREADMEShadowExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(  - name: strict-spreadsheets\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no shadow rule example")
	}
	p := mustPolicy(t, "rules:\n"+string(m[1]))
	rep := sample(1)
	d := p.Evaluate(rep)
	if d.Actions[0] != "deliver" || len(d.Shadow) != 1 || d.Shadow[0].Actions[0] != "hold_review" {
		t.Fatalf("README shadow example: %+v", d)
	}
}

// AmendActionsTx changes only the live actions of the one report it names,
// and leaves a report that is not there (shipped, purged) alone.
func TestAmendActions(t *testing.T) {
	s := openDB(t)
	at := time.Date(2026, 12, 7, 9, 0, 0, 123456789, time.UTC)
	a := &Report{QueueID: "Q1", Time: at, Sender: "a@example.com", Size: 2 << 20, Actions: []string{"encrypt"},
		Rules: []string{"protect-attachments"}, Attachments: []Attachment{{Ext: "xlsx"}}}
	b := &Report{QueueID: "Q2", Time: at, Sender: "b@example.com", Actions: []string{"encrypt"}}
	put(t, s, a, b)
	err := s.DB.Update(func(tx *bbolt.Tx) error {
		if err := s.AmendActionsTx(tx, at, "Q1", []string{"hold_review"}); err != nil {
			return err
		}
		return s.AmendActionsTx(tx, at.Add(time.Nanosecond), "Q3", []string{"hold_review"})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Report{}
	if _, err := s.Scan(context.Background(), time.Time{}, func(r *Report) error { got[r.QueueID] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || strings.Join(got["Q1"].Actions, ",") != "hold_review" || strings.Join(got["Q2"].Actions, ",") != "encrypt" {
		t.Fatalf("after the amend: %+v", got)
	}
	if r := got["Q1"]; r.Sender != a.Sender || r.Size != a.Size || len(r.Attachments) != 1 || strings.Join(r.Rules, ",") != "protect-attachments" {
		t.Errorf("amend changed more than the actions: %+v", r)
	}
	// A report that does not decode is left as it is, without an error:
	// the hold committing with the amend must not fail on it.
	bad := []byte("\xff not a report")
	err = s.DB.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucket).Put(key(at, "Q4"), bad); err != nil {
			return err
		}
		return s.AmendActionsTx(tx, at, "Q4", []string{"hold_review"})
	})
	if err != nil {
		t.Fatalf("amend of an unreadable report: %v", err)
	}
	s.DB.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucket).Get(key(at, "Q4")); !bytes.Equal(v, bad) {
			t.Errorf("unreadable report rewritten: %q", v)
		}
		return nil
	})
}
