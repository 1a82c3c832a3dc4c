package spool

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"sync"

	"github.com/sendguard/sendguard/internal/bufpool"
	"github.com/sendguard/sendguard/internal/regfile"
)

// BodyWriter streams a message's bytes into its spool file while hashing.
type BodyWriter struct {
	f    *os.File
	w    *bufio.Writer
	h    hash.Hash // nil for a derived copy: nothing keeps its hash
	n    int64
	path string

	// A received message (CreateMessage) or a derived copy
	// (CreateDerivedInline) is kept in mem while it fits in max bytes: no
	// file, so no fsync of it or of the directory; the commit that
	// records it stores it inline. A larger one spills to the file.
	mem    *bytes.Buffer
	max    int64
	store  *Store
	id     string
	suffix string // a derived copy's
	inline []byte

	// pace > 0 writes the file back in chunks of pace bytes as it grows
	// (see writeback); synced is how far that has gone.
	pace   int64
	synced int64

	// group: an acceptance's file, made durable by the syncfs of the
	// group commit that records it (Store.groupSync) rather than by its
	// own fsync while it is smaller than GroupSyncMax.
	group bool

	tail *tail // a reader follows the file as it is written (Tail)
}

// GroupSyncMax is the size from which an acceptance's file has its own
// fsync even with group sync: the fsync of a large body runs beside its
// inspection (CommitStart), where in the group commit its writeback
// would hold up every commit of the batch and those queued behind it.
const GroupSyncMax = 1 << 20

// ownSync reports whether the file is made durable by its own fsync.
func (b *BodyWriter) ownSync() bool { return !b.group || b.n >= GroupSyncMax }

// Create starts the body file for id. Call Commit to make it durable or
// Abort to remove it.
func (s *Store) Create(id string) (*BodyWriter, error) {
	return createBody(s.BodyPath(id), true)
}

// CreateMessage starts the body of a received message. A body of at most
// MaxInline bytes is kept in memory and, after Commit, readable through
// OpenBody until its acceptance commits it inline (Record.Inline = Inline())
// or RemoveBody drops it; a larger one goes to the spool file as with
// Create. Small mail is most mail: it then costs the acceptance no file,
// no fsync of its own and no fsync of the directory.
func (s *Store) CreateMessage(id string) (*BodyWriter, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("create spool file: invalid queue ID %q", id)
	}
	if s.NoInline {
		return s.Create(id)
	}
	return &BodyWriter{mem: new(bytes.Buffer), max: MaxInline, store: s, id: id, h: sha256.New(), path: s.BodyPath(id),
		group: s.groupSync()}, nil
}

// CreateDerived starts a file next to the message's body, e.g. a rewritten
// copy ("ID.out"); it belongs to the message and goes with it.
//
// Derived copies are written by the step worker, which nobody waits on,
// while SMTP acceptance fsyncs small files on the same disk: so a derived
// copy is written back chunk by chunk as it grows (Store.DerivedPace)
// rather than left as megabytes of dirty pages that the next acceptance's
// fsync would queue behind (ext4 orders a journal commit after the data
// of every file allocated in it). Commit still fsyncs the whole file.
func (s *Store) CreateDerived(id, suffix string) (*BodyWriter, error) {
	s.addDerived(id, suffix) // before the file exists: RemoveBody never misses it
	bw, err := createBody(s.BodyPath(id)+"."+suffix, false)
	if err == nil {
		bw.pace = s.derivedPace()
	}
	return bw, err
}

// DefaultDerivedPace is Store.DerivedPace when unset.
const DefaultDerivedPace = 256 << 10

func (s *Store) derivedPace() int64 {
	switch {
	case s.DerivedPace < 0:
		return 0
	case s.DerivedPace == 0:
		return DefaultDerivedPace
	}
	return s.DerivedPace
}

// createBody creates the file at path; hashed: Commit returns its SHA-256.
func createBody(path string, hashed bool) (*BodyWriter, error) {
	f, err := regfile.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	bw := &BodyWriter{f: f, w: bufpool.Writer(f), path: path}
	if hashed {
		bw.h = sha256.New()
	}
	return bw, nil
}

func (b *BodyWriter) Write(p []byte) (int, error) {
	if b.mem != nil {
		if b.n+int64(len(p)) <= b.max {
			b.mem.Write(p)
			if b.h != nil {
				b.h.Write(p)
			}
			b.n += int64(len(p))
			return len(p), nil
		}
		if err := b.spill(); err != nil {
			return 0, err
		}
	}
	if b.w == nil {
		return 0, os.ErrClosed
	}
	n, err := b.w.Write(p)
	if b.h != nil {
		b.h.Write(p[:n])
	}
	b.n += int64(n)
	if err == nil && b.pace > 0 && b.n-b.synced >= b.pace && b.ownSync() {
		if err = b.w.Flush(); err == nil {
			writeback(b.f, b.synced, b.n-b.synced)
			b.synced = b.n
		}
	}
	return n, err
}

// spill moves bytes that outgrew their bound in memory to their file.
func (b *BodyWriter) spill() error {
	if b.suffix != "" {
		b.store.addDerived(b.id, b.suffix) // before the file exists, as CreateDerived
		b.pace = b.store.derivedPace()     // from GroupSyncMax on, with group sync
	}
	f, err := regfile.OpenFile(b.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create spool file: %w", err)
	}
	b.f, b.w = f, bufpool.Writer(f)
	_, err = b.w.Write(b.mem.Bytes())
	b.mem = nil
	return err
}

// Inline is the bytes after a Commit that kept them in memory (nil if they
// went to a file): the commit that records them stores them inline
// (Record.Inline for a received body, Record.InlineCopy for a copy).
func (b *BodyWriter) Inline() []byte { return b.inline }

// Size is the number of bytes written so far.
func (b *BodyWriter) Size() int64 { return b.n }

// Path is the file being written.
func (b *BodyWriter) Path() string { return b.path }

// Commit flushes, fsyncs and closes the file, returning its SHA-256 (""
// for a derived copy: the record keeps the received message's hash, and
// hashing a large copy again cost as much as a tenth of the encrypt path).
func (b *BodyWriter) Commit() (string, error) {
	if b.mem != nil {
		// Durable with the commit that stores them inline.
		if b.mem.Len() == 0 {
			return "", fmt.Errorf("write spool file: nothing written")
		}
		b.inline, b.mem = b.mem.Bytes(), nil
		if b.suffix == "" {
			b.store.addPending(b.id, b.inline) // readable by OpenBody
		}
		return b.sum(), nil
	}
	if b.w == nil {
		return "", fmt.Errorf("write spool file: %w", os.ErrClosed)
	}
	if err := b.flush(); err != nil {
		return "", err
	}
	b.endTail(nil)
	if err := b.syncClose(); err != nil {
		return "", err
	}
	return b.sum(), nil
}

// CommitStart is Commit with the file's fsync on another goroutine: it
// returns the SHA-256 once the bytes are written to the file (readable
// through OpenBody, from the page cache), and wait returns the fsync's
// error. The acceptance inspects a large message while its body goes to
// the disk, instead of after. Until wait returns nil the body is not
// durable; after an error (from CommitStart or wait) it is gone, as after
// a failed Commit. wait must be called before the body is removed.
func (b *BodyWriter) CommitStart() (sum string, wait func() error, err error) {
	if b.mem != nil || b.w == nil || !b.ownSync() {
		sum, err := b.Commit()
		return sum, func() error { return nil }, err
	}
	if err := b.flush(); err != nil {
		return "", nil, err
	}
	b.endTail(nil)
	done := make(chan error, 1)
	go func() { done <- b.syncClose() }()
	return b.sum(), sync.OnceValue(func() error { return <-done }), nil
}

// flush writes out the buffered bytes and gives the buffer back.
func (b *BodyWriter) flush() error {
	err := b.w.Flush()
	b.release()
	if err != nil {
		b.Abort()
		return fmt.Errorf("write spool file: %w", err)
	}
	return nil
}

// fileSync is a spool file's fsync (a variable for the tests to count).
var fileSync = (*os.File).Sync

// syncClose makes the flushed file durable and closes it; a group file
// becomes durable with the commit that records it.
func (b *BodyWriter) syncClose() error {
	own := b.ownSync()
	if own {
		if err := fileSync(b.f); err != nil {
			b.Abort()
			return fmt.Errorf("fsync spool file: %w", err)
		}
	}
	if err := b.f.Close(); err != nil {
		os.Remove(b.path)
		return fmt.Errorf("close spool file: %w", err)
	}
	if !own {
		b.store.markUnsynced(b.id)
	}
	return nil
}

func (b *BodyWriter) sum() string {
	if b.h == nil {
		return ""
	}
	return hex.EncodeToString(b.h.Sum(nil))
}

// release gives the pooled writer back; further writes fail.
func (b *BodyWriter) release() {
	if b.w != nil {
		bufpool.PutWriter(b.w)
		b.w = nil
	}
}

// Abort discards the file.
func (b *BodyWriter) Abort() {
	b.endTail(errBodyAborted)
	if b.store != nil && b.f == nil {
		b.mem = nil
		if b.suffix == "" {
			b.store.dropPending(b.id)
		}
		return
	}
	b.release()
	b.f.Close()
	os.Remove(b.path)
	if b.suffix != "" {
		b.store.forgetDerived(b.id, b.suffix)
	}
}

// RemoveDerived deletes one derived copy of a message.
func (s *Store) RemoveDerived(id, suffix string) {
	os.Remove(s.BodyPath(id) + "." + suffix)
	s.forgetDerived(id, suffix)
}

// CreateDerivedInline starts a derived copy of id kept in memory up to max
// bytes (at most MaxInline): after Commit, Inline returns it for the
// record (Record.InlineCopy with Record.InlineSuffix) and it becomes
// durable with the commit that records it, with no file to create, fsync,
// name in the directory and unlink. A larger copy goes to the file
// CreateDerived makes, from the first byte over max.
func (s *Store) CreateDerivedInline(id, suffix string, max int) *BodyWriter {
	return &BodyWriter{mem: new(bytes.Buffer), max: int64(min(max, MaxInline)), store: s, id: id, suffix: suffix,
		path: s.BodyPath(id) + "." + suffix, group: s.groupSync()}
}
