package spool

import (
	"bytes"
	"os"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestCommitAfterMassDelete measures an acceptance's commit after 20,000
// held messages of 10 KiB (inline) were finished, freeing some 60,000
// pages, with bbolt's free page list written by every commit and rebuilt
// on open instead, in the same run. It is a measurement:
//
//	SENDGUARD_LOAD=1 go test -run TestCommitAfterMassDelete -v ./spool
func TestCommitAfterMassDelete(t *testing.T) {
	if os.Getenv("SENDGUARD_LOAD") == "" {
		t.Skip("set SENDGUARD_LOAD=1 to run the measurement")
	}
	defer func() { syncFreelist = false }()
	for _, sync := range []bool{true, false} {
		syncFreelist = sync
		dir := t.TempDir()
		s := openTest(t, dir)
		body := bytes.Repeat([]byte("x"), 10<<10)
		var ids []string
		for range 200 {
			if err := s.Commit(func(tx *bbolt.Tx) error {
				for range 100 {
					id := NewID()
					ids = append(ids, id)
					if err := PutTx(tx, &Record{ID: id, Kind: KindMail, State: StateHeld, Inline: body}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		// Time per commit, and bytes of pages each commit allocated (the
		// free page list is one of them): the time is the disk's and
		// noisy on a shared machine, the bytes are not.
		accept := func() (time.Duration, int64) {
			a := s.db.Stats()
			t0 := time.Now()
			for range 300 {
				if err := s.AcceptInline(&Record{ID: NewID(), Kind: KindMail, State: StateHeld, Inline: body}, nil); err != nil {
					t.Fatal(err)
				}
			}
			b := s.db.Stats()
			d := b.Sub(&a)
			return time.Since(t0) / 300, d.TxStats.GetPageAlloc() / 300
		}
		before, beforeB := accept()
		for i := 0; i < len(ids); i += 100 {
			if err := s.Commit(func(tx *bbolt.Tx) error {
				for _, id := range ids[i : i+100] {
					if err := DeleteTx(tx, id); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		after, afterB := accept()
		st := s.db.Stats()
		s.Close()
		t0 := time.Now()
		s = openTest(t, dir)
		open := time.Since(t0)
		s.Close()
		t.Logf("free page list written by each commit: %v; accept %v (%d B of pages), after the deletions %v (%d B; %d free pages); reopen %v",
			sync, before, beforeB, after, afterB, st.FreePageN+st.PendingPageN, open)
	}
}
