package spool_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sendguard/sendguard/spool"
)

// TestDerivedPacedWriteback: a derived copy written back in chunks as it
// grows keeps every byte in order, whatever the sizes of the writes
// against the chunk (odd sizes straddle chunks, and one write spans
// several); it is not hashed.
func TestDerivedPacedWriteback(t *testing.T) {
	data := make([]byte, 700<<10+13)
	rand.Read(data)
	for _, tc := range []struct {
		name  string
		pace  int64
		write int
	}{
		{"off", -1, 4096},
		{"default", 0, 4096},
		{"small chunks odd writes", 10 << 10, 3001},
		{"write spans chunks", 4 << 10, 100 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := spool.Open(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			st.DerivedPace = tc.pace
			id := spool.NewID()
			bw, err := st.CreateDerived(id, "out")
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < len(data); off += tc.write {
				if _, err := bw.Write(data[off:min(off+tc.write, len(data))]); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := bw.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if sum != "" {
				t.Errorf("derived copy hashed (%s): nothing keeps its hash", sum)
			}
			got, err := os.ReadFile(st.BodyPath(id) + ".out")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("file differs from what was written (%d bytes, want %d)", len(got), len(data))
			}
		})
	}
}

// TestRemoveBodyTakesDerivedCopies: RemoveBody removes a message's derived
// copies by name, both those written since Open and those found on disk
// when the spool was opened, and leaves other messages' files alone.
func TestRemoveBodyTakesDerivedCopies(t *testing.T) {
	dir := t.TempDir()
	st, err := spool.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	write := func(id, suffix string) {
		t.Helper()
		var bw *spool.BodyWriter
		var err error
		if suffix == "" {
			bw, err = st.Create(id)
		} else {
			bw, err = st.CreateDerived(id, suffix)
		}
		if err != nil {
			t.Fatal(err)
		}
		bw.Write([]byte("x"))
		if _, err := bw.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	a, b := spool.NewID(), spool.NewID()
	for _, id := range []string{a, b} {
		write(id, "")
		if err := st.Accept(&spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateQueued, NextAttempt: time.Now().Add(time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		write(id, "bcc")
	}
	st.Close()
	if st, err = spool.Open(dir, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write(a, "enc")
	write(a, "lnk1")
	st.RemoveDerived(a, "lnk1")
	write(a, "lnk1") // removed and written again: still listed once
	if err := st.RemoveBody(a); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "spool", "*"))
	var names []string
	for _, f := range left {
		names = append(names, filepath.Base(f))
	}
	slices.Sort(names)
	if want := []string{b, b + ".bcc"}; !slices.Equal(names, want) {
		t.Fatalf("left %v, want %v", names, want)
	}
}

// BenchmarkRemoveBodyBacklog: removing a delivered message's files costs
// the same whatever else waits in the spool (5,000 other messages here).
func BenchmarkRemoveBodyBacklog(b *testing.B) {
	dir := b.TempDir()
	st, err := spool.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sp := filepath.Join(dir, "spool")
	for range 5000 {
		os.WriteFile(filepath.Join(sp, spool.NewID()), []byte("x"), 0o600)
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = spool.NewID()
		os.WriteFile(filepath.Join(sp, ids[i]), []byte("x"), 0o600)
		bw, _ := st.CreateDerived(ids[i], "enc")
		bw.Write([]byte("x"))
		bw.Commit()
	}
	b.ResetTimer()
	for i := range b.N {
		st.RemoveBody(ids[i])
	}
}

// TestCommitStart: a received body is readable as soon as CommitStart
// returns, with the SHA-256 Commit would give; wait reports the fsync, and
// a body kept in memory (MaxInline) or a writer already closed behaves as
// Commit does.
func TestCommitStart(t *testing.T) {
	for _, each := range []bool{false, true} {
		t.Run(map[bool]string{false: "group sync", true: "sync each file"}[each], func(t *testing.T) {
			testCommitStart(t, each)
		})
	}
}

func testCommitStart(t *testing.T, syncEach bool) {
	st, err := spool.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SyncEachFile = syncEach
	for _, size := range []int{100, spool.MaxInline + 1, 3 << 20} {
		data := make([]byte, size)
		rand.Read(data)
		id := spool.NewID()
		bw, err := st.CreateMessage(id)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(data); off += 50000 {
			bw.Write(data[off:min(off+50000, len(data))])
		}
		sum, wait, err := bw.CommitStart()
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256(data); sum != hex.EncodeToString(want[:]) {
			t.Errorf("%d bytes: sum %s", size, sum)
		}
		b, err := st.OpenBody(id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(b)
		b.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: read %d before the fsync ended: %v", size, len(got), err)
		}
		if err := wait(); err != nil {
			t.Errorf("%d bytes: %v", size, err)
		}
		if err := wait(); err != nil {
			t.Errorf("%d bytes, second wait: %v", size, err)
		}
		if inline := bw.Inline(); (size <= spool.MaxInline) != (inline != nil) {
			t.Errorf("%d bytes: inline %d bytes", size, len(inline))
		}
		if size > spool.MaxInline {
			if onDisk, err := os.ReadFile(st.BodyPath(id)); err != nil || !bytes.Equal(onDisk, data) {
				t.Errorf("%d bytes: file has %d: %v", size, len(onDisk), err)
			}
		}
	}

	bw, err := st.Create(spool.NewID())
	if err != nil {
		t.Fatal(err)
	}
	bw.Write([]byte("x"))
	bw.Abort()
	if _, _, err := bw.CommitStart(); err == nil {
		t.Error("CommitStart after Abort succeeded")
	}
}
