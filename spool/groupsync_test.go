//go:build linux

package spool

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countSyncs counts spool files' own fsyncs and the group commits'
// syncfs calls for the test; fail makes syncfs fail.
func countSyncs(t *testing.T, fail error) (files, fs *atomic.Int64) {
	files, fs = new(atomic.Int64), new(atomic.Int64)
	oldFile, oldFS := fileSync, syncFS
	fileSync = func(f *os.File) error { files.Add(1); return oldFile(f) }
	syncFS = func(f *os.File) error {
		fs.Add(1)
		if fail != nil {
			return fail
		}
		return oldFS(f)
	}
	t.Cleanup(func() { fileSync, syncFS = oldFile, oldFS })
	return files, fs
}

// acceptWithFiles accepts n messages at once, each with a received body
// and an encrypted copy over MaxInline (two spool files, the acceptance's
// own), as the intake and the encryptor write them.
func acceptWithFiles(t *testing.T, s *Store, n int) (ids []string, bodies, copies [][]byte, errs []error) {
	t.Helper()
	ids, bodies, copies, errs = make([]string, n), make([][]byte, n), make([][]byte, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		ids[i] = NewID()
		bodies[i], copies[i] = make([]byte, MaxInline+1000+i), make([]byte, 3*MaxInline+i)
		if i == 0 {
			bodies[i] = make([]byte, GroupSyncMax+10) // fsynced beside the inspection
		}
		rand.Read(bodies[i])
		rand.Read(copies[i])
		wg.Go(func() {
			id := ids[i]
			bw, err := s.CreateMessage(id)
			if err != nil {
				errs[i] = err
				return
			}
			bw.Write(bodies[i])
			sum, wait, err := bw.CommitStart()
			if err == nil {
				err = wait()
			}
			if err != nil {
				errs[i] = err
				return
			}
			cw := s.CreateDerivedInline(id, "enc", MaxInline)
			cw.Write(copies[i])
			if _, err := cw.Commit(); err != nil || cw.Inline() != nil {
				errs[i] = errors.Join(err, errors.New("copy kept inline"))
				return
			}
			rec := &Record{ID: id, State: StateQueued, Size: int64(len(bodies[i])), SHA256: sum, BodySuffix: "enc",
				Rcpts: []Rcpt{{Addr: "a@example.net", Status: RcptPending}}, NextAttempt: time.Now()}
			if errs[i] = s.Accept(rec, nil); errs[i] != nil {
				s.RemoveBody(id)
			}
		})
	}
	wg.Wait()
	return ids, bodies, copies, errs
}

// TestGroupSync: the acceptance's spool files are made durable by one
// syncfs per group commit, not by an fsync each; everything committed
// reads back whole after a restart. With SyncEachFile each file has its
// own fsync, as before, and so has a body of GroupSyncMax or more.
func TestGroupSync(t *testing.T) {
	for _, each := range []bool{false, true} {
		dir := t.TempDir()
		s := openTest(t, dir)
		s.SyncEachFile = each
		files, fs := countSyncs(t, nil)
		const n = 12
		ids, bodies, copies, errs := acceptWithFiles(t, s, n)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("each=%v: message %d: %v", each, i, err)
			}
		}
		commits := s.commitsRun.Load()
		switch {
		case each && (files.Load() != 2*n || fs.Load() != 0):
			t.Errorf("per file: %d fsyncs of files and %d syncfs, want %d and 0", files.Load(), fs.Load(), 2*n)
		case !each && (files.Load() != 1 || fs.Load() == 0 || fs.Load() > commits):
			t.Errorf("group: %d fsyncs of files and %d syncfs for %d commits, want 1 (the large body) and 1 per commit", files.Load(), fs.Load(), commits)
		}
		s.Close()
		s = openTest(t, dir)
		for i, id := range ids {
			rec, err := s.Get(id)
			if err != nil {
				t.Fatalf("each=%v: %v", each, err)
			}
			for _, f := range []struct {
				suffix string
				want   []byte
			}{{"", bodies[i]}, {"enc", copies[i]}} {
				rc, err := s.OpenDeliverable(&Record{ID: id, BodySuffix: f.suffix})
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(rc)
				rc.Close()
				if !bytes.Equal(got, f.want) {
					t.Errorf("each=%v: %s.%s: %d bytes, want %d", each, id, f.suffix, len(got), len(f.want))
				}
			}
			if rec.BodySuffix != "enc" {
				t.Errorf("record %+v", rec)
			}
		}
		s.Close()
	}
}

// TestGroupSyncFails: when the syncfs fails, no acceptance of its batch
// commits (the caller answers 451 and removes its files), and the store
// keeps working.
func TestGroupSyncFails(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	countSyncs(t, syscall.EIO)
	ids, _, _, errs := acceptWithFiles(t, s, 6)
	for i, err := range errs {
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("message %d: %v, want EIO from the syncfs", i, err)
		}
		if _, err := s.Get(ids[i]); !errors.Is(err, ErrNotFound) {
			t.Errorf("message %d committed after a failed syncfs: %v", i, err)
		}
		if _, err := os.Stat(s.BodyPath(ids[i])); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("message %d: body file left: %v", i, err)
		}
	}
	syncFS = func(f *os.File) error { return nil }
	_, _, _, errs = acceptWithFiles(t, s, 2)
	for _, err := range errs {
		if err != nil {
			t.Errorf("after the failure: %v", err)
		}
	}
}

func TestKernelAtLeast(t *testing.T) {
	for _, c := range []struct {
		release string
		want    bool
	}{
		{"6.18.44-fc-v1272", true}, {"5.8.0", true}, {"5.10.0-28-amd64", true}, {"5.7.19", false},
		{"4.19.0-26-amd64", false}, {"5.8", true}, {"6.1-rc3", true}, {"5", false}, {"", false}, {"x.y", false},
	} {
		if got := kernelAtLeast(c.release, 5, 8); got != c.want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v", c.release, got)
		}
	}
}

// TestGroupSyncOnlyWhenNeeded: an acceptance whose files all had their own
// fsync (a body from GroupSyncMax on) commits after the directory's fsync
// alone, not a syncfs, which would wait for every write in flight on the
// file system (a large rewrite's copy after its reply).
func TestGroupSyncOnlyWhenNeeded(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	files, fs := countSyncs(t, nil)
	id := NewID()
	bw, err := s.CreateMessage(id)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write(make([]byte, GroupSyncMax+10))
	sum, wait, err := bw.CommitStart()
	if err == nil {
		err = wait()
	}
	if err != nil {
		t.Fatal(err)
	}
	rec := &Record{ID: id, State: StateQueued, Size: GroupSyncMax + 10, SHA256: sum,
		Rcpts: []Rcpt{{Addr: "a@example.net", Status: RcptPending}}, NextAttempt: time.Now()}
	if err := s.Accept(rec, nil); err != nil {
		t.Fatal(err)
	}
	if files.Load() != 1 || fs.Load() != 0 {
		t.Errorf("%d fsyncs of files and %d syncfs, want 1 and 0", files.Load(), fs.Load())
	}
	// A message whose files skipped their fsync gets the syncfs.
	acceptWithFiles(t, s, 1)
	if fs.Load() != 1 {
		t.Errorf("%d syncfs for a message with files under GroupSyncMax, want 1", fs.Load())
	}
}

// A file closed without its fsync is made durable by the commit that
// records it even when that commit was asked for without any sync
// (AcceptInline, meant for acceptances that wrote no file): fail closed.
func TestGroupSyncForcedByUnsyncedFiles(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	_, fs := countSyncs(t, nil)
	id := NewID()
	cw := s.CreateDerivedInline(id, "enc", MaxInline)
	cw.Write(make([]byte, 2*MaxInline))
	if _, err := cw.Commit(); err != nil || cw.Inline() != nil {
		t.Fatalf("copy: %v, inline %d bytes", err, len(cw.Inline()))
	}
	rec := &Record{ID: id, State: StateQueued, Inline: []byte("Subject: x\r\n\r\nx\r\n"), BodySuffix: "enc",
		Rcpts: []Rcpt{{Addr: "a@example.net", Status: RcptPending}}, NextAttempt: time.Now()}
	if err := s.AcceptInline(rec, nil); err != nil {
		t.Fatal(err)
	}
	if fs.Load() != 1 {
		t.Errorf("%d syncfs for a commit recording a file without its fsync, want 1", fs.Load())
	}
}
