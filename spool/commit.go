package spool

import (
	"errors"
	"fmt"
	"os"

	"go.etcd.io/bbolt"
)

// maxBatch bounds one group commit so a burst cannot hold the write lock
// for long.
const maxBatch = 256

type commitReq struct {
	fn      func(tx *bbolt.Tx) error
	syncDir bool
	syncFS  bool // group sync: files of this commit were not fsynced
	done    chan error
}

// commit runs fn in a write transaction shared with whatever other commits
// are waiting, and returns once that transaction is durable.
func (s *Store) commit(syncDir bool, fn func(tx *bbolt.Tx) error) error {
	return s.submit(&commitReq{fn: fn, syncDir: syncDir, done: make(chan error, 1)})
}

func (s *Store) submit(req *commitReq) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.commits <- req
	s.mu.RUnlock()
	return <-req.done
}

// errMember marks a batch aborted by one member's error.
var errMember = errors.New("batch member failed")

// committer batches whatever is waiting: no artificial delay (bbolt's Batch
// waits 10 ms, which costs more than it saves with few writers); while one
// commit's fsyncs run, the next batch queues up by itself.
func (s *Store) committer() {
	defer close(s.done)
	for req := range s.commits {
		batch := []*commitReq{req}
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.commits:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.runBatch(batch)
	}
}

func (s *Store) runBatch(batch []*commitReq) {
	unsynced := false
	for _, r := range batch {
		unsynced = unsynced || r.syncFS
	}
	for _, r := range batch {
		if r.syncDir {
			err := s.syncFiles(unsynced)
			if err != nil {
				for _, r := range batch {
					r.done <- err
				}
				return
			}
			break
		}
	}
	s.commitsRun.Add(1)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, r := range batch {
			if err := r.fn(tx); err != nil {
				return errMember
			}
		}
		return nil
	})
	if err == nil || !errors.Is(err, errMember) {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	// One member failed: run each alone so the others still commit and the
	// failing one gets its own error. fn must be safe to run again.
	for _, r := range batch {
		r.done <- s.db.Update(r.fn)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open spool dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync spool dir: %w", err)
	}
	return nil
}

// syncFiles makes the batch's new spool files durable before the records
// naming them commit: their names (fsync of the directory) and, when some
// were closed without their fsync (group sync), their contents too, with
// one syncfs.
func (s *Store) syncFiles(unsynced bool) error {
	if !unsynced {
		return syncDir(s.dir)
	}
	if err := syncFS(s.syncDirFD); err != nil {
		return fmt.Errorf("syncfs spool: %w", err)
	}
	return nil
}

// SyncDir makes new body files' names durable before a record naming them
// is committed outside Accept.
func (s *Store) SyncDir() error { return syncDir(s.dir) }
