package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/sent"
	"github.com/sendguard/sendguard/spool"
)

// The scheduled purge deletes records older than sent.retention, keeps
// the others, and leaves an audit event saying how many and up to when.
func TestSentPurgeIsAudited(t *testing.T) {
	sp, err := spool.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	holds, err := hold.New(sp.DB(), hold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := &sent.Store{DB: sp.DB(), Retention: 24 * time.Hour}
	if err := st.Init(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for id, at := range map[string]time.Time{"OLD": now.Add(-48 * time.Hour), "NEW": now.Add(-time.Hour)} {
		r := &sent.Record{ID: id, DeliveredAt: at, MailFrom: "a@example.com"}
		if err := st.DB.Update(func(tx *bbolt.Tx) error { return st.PutTx(tx, r) }); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { purgeSent(ctx, st, holds, st.Retention, time.Hour, slog.New(slog.DiscardHandler)); close(done) }()
	waitFor(t, 10*time.Second, func() bool {
		_, err := st.Get(context.Background(), "OLD")
		return errors.Is(err, sent.ErrNotFound)
	})
	cancel()
	<-done
	if _, err := st.Get(context.Background(), "NEW"); err != nil {
		t.Fatalf("a record inside the retention was purged: %v", err)
	}
	evs, _, err := holds.EventsRange(context.Background(), hold.EventFilter{Action: "sent_purged"}, hold.EventPage{Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].Actor != hold.System || !strings.Contains(evs[0].Reason, "1 sent-mail records") {
		t.Fatalf("audit: %v %+v", err, evs)
	}
}
