package spool

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"go.etcd.io/bbolt"
)

// maxBatch bounds one group commit so a burst cannot hold the write lock
// for long.
const maxBatch = 256

// Background commits (delivery results, finished steps, decisions) are
// batched at most maxBackground at a time, and at most besideAccept of
// them join a batch that carries acceptances: an SMTP client waiting for
// its 250 then waits for at most one short batch in flight and a short
// batch of its own, whatever backlog of results is queued behind it.
const (
	maxBackground = 32
	besideAccept  = 8
)

type commitReq struct {
	fn      func(tx *bbolt.Tx) error
	syncDir bool
	accept  bool // an acceptance: a client waits for the commit
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
// commit's fsyncs run, the next batch queues up by itself. Acceptances go
// first (see maxBackground); background commits keep their order.
func (s *Store) committer() {
	defer close(s.done)
	var accepts, background []*commitReq
	add := func(r *commitReq) {
		if r.accept && !s.OneLane {
			accepts = append(accepts, r)
		} else {
			background = append(background, r)
		}
	}
	open := true
	for open || len(accepts)+len(background) > 0 {
		if len(accepts)+len(background) == 0 {
			r, ok := <-s.commits
			if !ok {
				break
			}
			add(r)
		}
	drain:
		for open {
			select {
			case r, ok := <-s.commits:
				if !ok {
					open = false
					break drain
				}
				add(r)
			default:
				break drain
			}
		}
		var batch []*commitReq
		n := min(len(accepts), maxBatch)
		batch = append(batch, accepts[:n]...)
		accepts = slices.Delete(accepts, 0, n)
		k := maxBackground
		switch {
		case s.OneLane:
			k = maxBatch
		case n > 0:
			k = besideAccept
		}
		k = min(k, len(background), maxBatch-n)
		batch = append(batch, background[:k]...)
		background = slices.Delete(background, 0, k)
		s.runBatch(batch)
	}
}

func (s *Store) runBatch(batch []*commitReq) {
	for _, r := range batch {
		if r.syncDir {
			if err := syncDir(s.dir); err != nil {
				for _, r := range batch {
					r.done <- err
				}
				return
			}
			break
		}
	}
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

// SyncDir makes new body files' names durable before a record naming them
// is committed outside Accept.
func (s *Store) SyncDir() error { return syncDir(s.dir) }
