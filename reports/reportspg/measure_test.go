package reportspg_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/reports/reportspg"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// analysed is a realistic message: external recipients, a spreadsheet
// of personal data, a directory entry and a baseline.
func analysed(i int) *rules.Report {
	return &rules.Report{
		Sender: fmt.Sprintf("user%d@corp.example.com", i%50), From: fmt.Sprintf("user%d@corp.example.com", i%50), Size: 48213,
		Recipients: rules.Recipients{Total: 3, External: 2, VisibleExternal: 1,
			ExternalDomains: []string{"client.example.net", "partner.example.org"}, VisibleExternalDomains: []string{"client.example.net"},
			FirstTimeDomains: []string{"partner.example.org"},
			List: []rules.Recipient{
				{Address: "a@client.example.net", Field: "to", Domain: "client.example.net", External: true, Envelope: true},
				{Address: "b@partner.example.org", Field: "bcc", Domain: "partner.example.org", External: true, Envelope: true},
				{Address: "c@corp.example.com", Field: "cc", Domain: "corp.example.com", Envelope: true}}},
		Findings: []rules.Finding{
			{Detector: "mynumber", Count: i % 20, Records: i % 20, Location: "attachment:list.xlsx"},
			{Detector: "phone", Count: 1, Location: "body"}},
		Attachments: []rules.Attachment{{Name: "list.xlsx", Location: "attachment:list.xlsx",
			Type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Size: 30211}},
		SenderDirectory: &rules.SenderDirectory{Status: "found", Department: "sales", Groups: []string{"sales", "tokyo"}},
		SenderBehaviour: &rules.SenderBehaviour{Days: 12, Messages: 340, Established: true, Hour: 2, HourShare: 0.0123, PerHour: 1.5},
	}
}

const candidate = `rules:
  - name: pii
    when: 'finding("mynumber") > 10 && recipients.external > 0'
    actions: [hold_review]
    reason: personal data
  - name: night
    when: 'sender.unusual_hour()'
    actions: [hold_review]
    reason: odd hour
`

// TestMeasureReplay (SENDGUARD_MEASURE=1) stores 100,000 reports in
// bbolt and in PostgreSQL, reports the bytes per stored report on
// PostgreSQL and times policy replay over each, alternating in one run.
func TestMeasureReplay(t *testing.T) {
	if os.Getenv("SENDGUARD_MEASURE") == "" {
		t.Skip("set SENDGUARD_MEASURE=1")
	}
	const n = 100_000
	ctx := context.Background()
	pool, err := pgstore.Connect(ctx, pgtest.New(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pg := reportspg.New(pool)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "r.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bolt := &reports.Bolt{DB: db}
	if err := bolt.Init(); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-14 * 24 * time.Hour)
	live := policy.Decision{Actions: []string{"deliver"}}
	var batch []*reports.Report
	encoded := 0
	for i := range n {
		r := reports.FromAnalysis(fmt.Sprintf("Q%08d", i), start.Add(time.Duration(i)*12*time.Second), analysed(i), &live)
		encoded += len(reports.Marshal(r))
		batch = append(batch, r)
		if len(batch) == 5000 || i == n-1 {
			if err := bolt.Put(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if err := pg.Put(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE node_reports`); err != nil {
		t.Fatal(err)
	}
	var total, heap, col int64
	if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size('node_reports'), pg_relation_size('node_reports'),
		(SELECT sum(pg_column_size(report)) FROM node_reports)`).Scan(&total, &heap, &col); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL: %d reports, %.0f bytes each with the primary key index (heap %.0f, report column %.0f; encoding %.0f)",
		n, float64(total)/n, float64(heap)/n, float64(col)/n, float64(encoded)/n)

	pol, err := policy.Parse("candidate.yaml", []byte(candidate))
	if err != nil {
		t.Fatal(err)
	}
	replay := func(s interface {
		Scan(context.Context, time.Time, func(*reports.Report) error) (int, error)
	}) (time.Duration, reports.Result) {
		t0 := time.Now()
		rp := reports.NewReplay(pol, start, time.Now())
		if _, err := s.Scan(ctx, start, func(r *reports.Report) error { rp.Add(r); return nil }); err != nil {
			t.Fatal(err)
		}
		return time.Since(t0), rp.Result()
	}
	const rounds = 4
	var took [2]time.Duration
	for i := range rounds {
		for j, s := range []interface {
			Scan(context.Context, time.Time, func(*reports.Report) error) (int, error)
		}{bolt, pg} {
			if i%2 == 1 {
				s = []interface {
					Scan(context.Context, time.Time, func(*reports.Report) error) (int, error)
				}{pg, bolt}[j]
				j = 1 - j
			}
			d, res := replay(s)
			if res.Reports != n {
				t.Fatalf("replayed %d", res.Reports)
			}
			took[j] += d
		}
	}
	b, p := took[0]/rounds, took[1]/rounds
	t.Logf("policy replay over %d reports, mean of %d alternating rounds: bbolt %v, PostgreSQL %v (%.2fx)", n, rounds, b.Round(time.Millisecond), p.Round(time.Millisecond), float64(p)/float64(b))
	// The read alone (the report stream of policy replay's admin call).
	var raw [2]time.Duration
	for i := range rounds {
		for k := range 2 {
			j := (i + k) % 2
			s := []reports.RawSource{bolt, pg}[j]
			t0 := time.Now()
			c := 0
			if err := s.ScanRaw(ctx, start, func([]byte) error { c++; return nil }); err != nil || c != n {
				t.Fatalf("scan raw: %d %v", c, err)
			}
			raw[j] += time.Since(t0)
		}
	}
	b, p = raw[0]/rounds, raw[1]/rounds
	t.Logf("reading the %d encodings alone: bbolt %v, PostgreSQL %v (%.2fx)", n, b.Round(time.Millisecond), p.Round(time.Millisecond), float64(p)/float64(b))
}
