package hold

import (
	"context"
	"fmt"
	"github.com/sendguard/sendguard/internal/testclock"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func newClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
}

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	return db
}

// fixture is a store on a fresh DB in a temp dir.
type fixture struct {
	t     testing.TB
	path  string
	db    *bbolt.DB
	s     *Store
	clock *testclock.Clock
	opts  Options
}

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "sendguard.db"), clock: newClock(), opts: opts}
	f.open()
	t.Cleanup(func() { f.db.Close() })
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	f.db = openDB(f.t, f.path)
	opts := f.opts
	opts.Now = f.clock.Now
	s, err := New(f.db, opts)
	if err != nil {
		f.t.Fatalf("new store: %v", err)
	}
	f.s = s
}

// reopen closes and reopens the DB, as a restart does.
func (f *fixture) reopen() {
	f.t.Helper()
	if err := f.db.Close(); err != nil {
		f.t.Fatalf("close db: %v", err)
	}
	f.open()
}

func sampleRecord(id string, kind Kind) *Record {
	return &Record{
		ID:      id,
		Kind:    kind,
		Sender:  "Taro@Example.com",
		Subject: "見積書",
		Recipients: RecipientSummary{
			Total: 2, External: 1,
			Domains:   []string{"partner.co.jp", "example.com"},
			Addresses: []string{"a@partner.co.jp", "b@example.com"},
		},
		Decision: Decision{
			Actions: []string{"hold_review"},
			Rules:   []string{"pii-external"},
			Reasons: []string{"mynumber in attachment"},
		},
		Approvers: []string{"boss@example.com"},
		Language:  "ja",
		Report:    []byte(`{"findings":[{"detector":"mynumber","count":2}]}`),
	}
}

func (f *fixture) create(id string, kind Kind, deadline time.Duration) *Record {
	f.t.Helper()
	r := sampleRecord(id, kind)
	if deadline != 0 {
		r.Deadline = f.clock.Now().Add(deadline)
	}
	if err := f.s.Create(context.Background(), r, System, "policy"); err != nil {
		f.t.Fatalf("create %s: %v", id, err)
	}
	return r
}

func (f *fixture) state(id string) State {
	f.t.Helper()
	r, err := f.s.Get(context.Background(), id)
	if err != nil {
		f.t.Fatalf("get %s: %v", id, err)
	}
	return r.State
}

var alice = Actor{Name: "alice@example.com", Role: "approver", IP: "192.0.2.1", UserAgent: "test"}

func tokenHash(n int) [32]byte {
	var h [32]byte
	copy(h[:], fmt.Sprintf("token-%d", n))
	return h
}
