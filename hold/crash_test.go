package hold

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

const crashEnv = "SENDGUARD_HOLD_CRASH_DB"

// crashHook enqueues like the gateway does: into the same transaction.
func crashHook(tx *bbolt.Tx, rec *Record) error {
	b, err := tx.CreateBucketIfNotExists(bucketTestQueue)
	if err != nil {
		return err
	}
	if b.Get([]byte(rec.ID)) != nil {
		return fmt.Errorf("%s enqueued twice", rec.ID)
	}
	return b.Put([]byte(rec.ID), []byte(rec.Mode))
}

// TestCrashChild is the process the crash test kills; it does nothing in
// a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("only runs as the crash test's child")
	}
	db := openDB(t, path)
	s, err := New(db, Options{OnRelease: crashHook})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < 20_000 && time.Since(start) < 5*time.Second; i++ {
		id := fmt.Sprintf("C%d-%d", os.Getpid(), i)
		r := sampleRecord(id, []Kind{KindSender, KindApprover, KindDelay}[i%3])
		r.Deadline = time.Now().Add(time.Hour)
		if r.Kind == KindDelay {
			r.Deadline = time.Now().Add(time.Duration(i%5) * time.Millisecond) // Tick releases it
		}
		if err := s.Create(ctx, r, System, ""); err != nil {
			t.Fatal(err)
		}
		var h [32]byte
		copy(h[:], id)
		if err := s.AddToken(ctx, Token{Hash: h, MessageID: id, Role: RoleSender, Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var err error
		switch i % 4 {
		case 0:
			_, err = s.TransitionWithToken(ctx, h, RoleSender, StateReleased, alice, "", WithMode(ModeBcc))
		case 1:
			_, err = s.Transition(ctx, id, StateCancelled, alice, "")
		case 2:
			_, err = s.Tick(ctx, time.Now())
		case 3:
			_, err = s.Purge(ctx, time.Now())
		}
		if err != nil && !errors.Is(err, ErrAlreadyDecided) {
			t.Fatal(err)
		}
		if i == 0 {
			fmt.Println("ready") // one release committed: the kill comes later
		}
	}
}

// TestCrash kills a process mid-work with SIGKILL and checks after the
// restart that release and enqueue committed together, every index agrees
// with the records, the audit chain holds, and work resumes.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(out)
			ok := false
			for sc.Scan() {
				if sc.Text() == "ready" && !ok {
					ok = true
					ready <- true
				}
			}
			if !ok {
				ready <- false
			}
		}()
		select {
		case ok := <-ready:
			if !ok {
				cmd.Wait()
				t.Fatal("child ended before ready")
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("child not ready")
		}
		time.Sleep(time.Duration(30+40*round) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()

		checkAfterCrash(t, path)
	}
}

func checkAfterCrash(t *testing.T, path string) {
	t.Helper()
	db := openDB(t, path)
	defer db.Close()
	s, err := New(db, Options{OnRelease: crashHook})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Check(ctx); err != nil {
		t.Fatalf("indexes after crash: %v", err)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatalf("audit after crash: %v", err)
	}
	// Every held record can still be decided; afterwards released and
	// queued are the same set.
	for _, id := range listAllIDs(t, s, Filter{State: StateHeld}) {
		if _, err := s.Transition(ctx, id, StateReleased, alice, "after restart"); err != nil && !errors.Is(err, ErrAlreadyDecided) {
			t.Fatal(err)
		}
	}
	released := map[string]bool{}
	for _, id := range listAllIDs(t, s, Filter{State: StateReleased}) {
		released[id] = true
	}
	db.View(func(tx *bbolt.Tx) error {
		n := 0
		if b := tx.Bucket(bucketTestQueue); b != nil {
			b.ForEach(func(k, _ []byte) error {
				n++
				if !released[string(k)] {
					t.Errorf("%s queued but not released", k)
				}
				return nil
			})
		}
		if n != len(released) {
			t.Errorf("%d queued, %d released", n, len(released))
		}
		return nil
	})
	if len(released) == 0 {
		t.Fatal("the child released nothing before the kill")
	}
}

func listAllIDs(t *testing.T, s *Store, f Filter) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 1000 {
		res, err := s.List(context.Background(), f, Page{Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Records {
			ids = append(ids, r.ID)
		}
		if cursor = res.Next; cursor == "" {
			break
		}
	}
	return ids
}
