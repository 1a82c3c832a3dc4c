// Package spool owns every accepted message: its bytes in files, its
// metadata and state in bbolt.
//
// Durability order (a message is owned only after all of it):
//  1. the body is written to data_dir/spool/ID and fsynced (BodyWriter.Commit);
//  2. the spool directory is fsynced, so the file's name is durable;
//  3. the record is committed to bbolt (two fsyncs).
//
// Only then may the SMTP server answer 250. Steps 2 and 3 are shared by
// concurrent sessions (group commit): one directory fsync and one bbolt
// commit serve every message that arrived while the previous commit ran, so
// throughput does not collapse to one commit per message.
//
// On Open, body files without a record (the client never got 250) are
// removed, and records whose body is missing are reported.
package spool

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/internal/regfile"
)

var (
	// ErrNotFound means no record has that ID.
	ErrNotFound = errors.New("no such message")
	// ErrClosed means the store is shutting down.
	ErrClosed = errors.New("spool closed")
)

var (
	bucketMsgs   = []byte("msgs")
	bucketDue    = []byte("due")    // key: next attempt (unix ns, big-endian) + ID
	bucketCounts = []byte("counts") // state → number of records (uint64), kept in step by PutTx/DeleteTx
	bucketSteps  = []byte("steps")  // ID → nil for every record with recorded steps
	bucketInline = []byte("inline") // ID → body of a record with InlineBody, ID.suffix → its InlineCopy (as written before bucketBodies)
	// bucketBodies holds a bucket per message (ID) with its inline body
	// (key inlineBodyKey) and copy (key: suffix), until the record is
	// final. Values of a few KB under flat keys share leaves of two to
	// four, so every new message and every final state rewrote its
	// neighbours' bodies too; in a bucket of its own a message's values
	// are written once and freed whole.
	bucketBodies = []byte("bodies")
)

// Store is the spool. It is safe for concurrent use.
type Store struct {
	db      *bbolt.DB
	dir     string // body files
	tmp     string // staging files, emptied on Open
	log     *slog.Logger
	commits chan *commitReq
	journal *journal // delivery marks (MarkDelivered)

	// DerivedPace is the chunk in bytes in which derived copies are
	// written back as they grow (see CreateDerived); 0 means
	// DefaultDerivedPace, < 0 turns pacing off. Set it before use.
	DerivedPace int64
	// NoInline makes CreateMessage write every body to its file, as
	// before small ones were kept inline; for A/B measurements. Set it
	// before use.
	NoInline bool
	// SyncEachFile makes every acceptance fsync its spool files one by
	// one, as before group sync (see groupSync); for file systems shared
	// with busy writers, and for A/B measurements. Set it before use.
	SyncEachFile bool
	// syncDirFD is the spool directory, open for the store's life: the
	// group commit's syncfs goes through it (see syncFS).
	syncDirFD *os.File
	// unsynced counts each message's files closed without their fsync
	// (group sync) until the acceptance that records them takes them:
	// only a batch with such files runs the syncfs, which waits for every
	// write in flight on the file system (a large rewrite's copy), where
	// a batch of files already fsynced needs only the directory's.
	unsyncedMu sync.Mutex
	unsynced   map[string]int

	mu     sync.RWMutex
	closed bool
	done   chan struct{}

	// derived lists each message's derived copies (suffixes), learnt from
	// the directory on Open and from CreateDerived since, so RemoveBody
	// removes them by name instead of scanning a spool directory that may
	// hold a large backlog.
	derivedMu sync.Mutex
	derived   map[string][]string

	// pending are received bodies kept in memory (CreateMessage) between
	// their Commit and their acceptance's commit, for the inspection and
	// the rewrites of acceptance to read.
	pendingMu sync.Mutex
	pending   map[string][]byte

	commitsRun atomic.Int64 // bbolt commits of the committer
}

// flatInline keeps inline bodies and copies under flat keys of the inline
// bucket, as before each message had a bucket of its own; for A/B
// measurements.
var flatInline = false

// syncFreelist writes bbolt's free page list with every commit, as before
// it was rebuilt on open instead; for A/B measurements.
var syncFreelist = false

// Open opens (or creates) the spool under dataDir.
func Open(dataDir string, log *slog.Logger) (*Store, error) {
	dir := filepath.Join(dataDir, "spool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	// The free page list is not written with every commit but rebuilt
	// when the database opens (as etcd runs bbolt): after a burst of
	// finished messages freed tens of thousands of pages, writing that
	// list made every commit, so every acceptance, twice as slow
	// (TestCommitAfterMassDelete).
	db, err := bbolt.Open(filepath.Join(dataDir, "sendguard.db"), 0o600, &bbolt.Options{Timeout: 2 * time.Second,
		NoFreelistSync: !syncFreelist, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open database (is another sendguard running on %s?): %w", dataDir, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketMsgs, bucketDue, bucketSteps, bucketDelivered, bucketInline, bucketBodies} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if tx.Bucket(bucketCounts) == nil {
			return rebuildCountsTx(tx)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create buckets: %w", err)
	}
	// Staging files (plaintext attachments on their way into a zip or a
	// link package) of a process that died are removed.
	tmp := filepath.Join(dataDir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		db.Close()
		return nil, fmt.Errorf("clear staging dir: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		db.Close()
		return nil, fmt.Errorf("create staging dir: %w", err)
	}
	s := &Store{db: db, dir: dir, tmp: tmp, log: log, commits: make(chan *commitReq, 1024), done: make(chan struct{})}
	if groupSyncSupported() {
		if s.syncDirFD, err = os.Open(dir); err != nil {
			db.Close()
			return nil, fmt.Errorf("open spool dir: %w", err)
		}
	}
	if err := s.reconcile(); err != nil {
		s.closeSyncDir()
		db.Close()
		return nil, err
	}
	jpath := filepath.Join(dataDir, "delivered.journal")
	if err := s.replayJournal(jpath); err != nil {
		s.closeSyncDir()
		db.Close()
		return nil, err
	}
	if s.journal, err = openJournal(jpath); err != nil {
		s.closeSyncDir()
		db.Close()
		return nil, err
	}
	go s.committer()
	return s, nil
}

// groupSync reports whether the acceptance's spool files skip their own
// fsync: the group commit that records them runs one syncfs(2) for the
// whole batch instead (Accept), which makes their data, their inodes and
// their names durable with a single cache flush. An fsync per file was
// most of an attachment mail's kernel time (a 275 KB file: 270-450 µs of
// CPU with its fsync, 85-100 µs without; eight such files and one syncfs:
// 165 µs each), and two flushes per such message.
func (s *Store) groupSync() bool { return s.syncDirFD != nil && !s.SyncEachFile }

func (s *Store) markUnsynced(id string) {
	s.unsyncedMu.Lock()
	defer s.unsyncedMu.Unlock()
	if s.unsynced == nil {
		s.unsynced = map[string]int{}
	}
	s.unsynced[id]++
}

// takeUnsynced reports whether id has files waiting for the syncfs, and
// forgets them: the acceptance that records them runs it.
func (s *Store) takeUnsynced(id string) bool {
	s.unsyncedMu.Lock()
	defer s.unsyncedMu.Unlock()
	n := s.unsynced[id]
	delete(s.unsynced, id)
	return n > 0
}

func (s *Store) closeSyncDir() {
	if s.syncDirFD != nil {
		s.syncDirFD.Close()
	}
}

// DB is the shared database; other stores (hold, history) keep their
// buckets in it so that a transition and an enqueue commit together.
func (s *Store) DB() *bbolt.DB { return s.db }

// Dir is the directory of body files.
func (s *Store) Dir() string { return s.dir }

// TempDir is a private directory for staging files, on the spool's disk
// and emptied when the store opens.
func (s *Store) TempDir() string { return s.tmp }

// Close stops the committer and closes the database. Pending commits finish.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.commits)
	s.mu.Unlock()
	<-s.done
	s.closeSyncDir()
	jerr := s.journal.close()
	if err := s.db.Close(); err != nil {
		return err
	}
	return jerr
}

// NewID returns a queue ID: sortable by arrival time, unguessable enough to
// be unique without coordination (40 random bits per nanosecond).
func NewID() string {
	var b [13]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	rand.Read(b[8:])
	return idEncoding.EncodeToString(b[:])
}

var idEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// ValidID reports whether s has the shape of a queue ID (so it is safe in a
// file name).
func ValidID(s string) bool {
	if len(s) != 21 {
		return false
	}
	_, err := idEncoding.DecodeString(s)
	return err == nil
}

// BodyPath is the file holding a message's bytes.
func (s *Store) BodyPath(id string) string { return filepath.Join(s.dir, id) }

// Body is a message's bytes opened for reading: its spool file, or a
// reader over the copy in the database.
type Body interface {
	io.ReadSeekCloser
	io.ReaderAt
}

type memBody struct{ *bytes.Reader }

func (memBody) Close() error { return nil }

// BytesBody is b as a Body (a message's bytes already in memory).
func BytesBody(b []byte) Body { return memBody{bytes.NewReader(b)} }

// OpenBody opens a message's bytes as received for reading: kept in
// memory until its acceptance commits (CreateMessage), inline in the
// database, or the spool file.
func (s *Store) OpenBody(id string) (Body, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	if b := s.pendingBody(id); b != nil {
		return BytesBody(b), nil
	}
	if b, err := s.InlineBody(id); err == nil {
		return BytesBody(b), nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	f, err := regfile.Open(s.BodyPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return f, err
}

// OpenDeliverable opens the bytes to deliver: the rewritten copy if the
// record names one (from the database when it is the record's inline
// copy, InlineSuffix), else the body as received (OpenBody).
func (s *Store) OpenDeliverable(rec *Record) (io.ReadCloser, error) {
	if !ValidID(rec.ID) {
		return nil, ErrNotFound
	}
	if rec.BodySuffix != "" && rec.BodySuffix == rec.InlineSuffix {
		b, err := s.inlineValue(rec.ID, rec.InlineSuffix)
		if err != nil {
			return nil, err
		}
		return BytesBody(b), nil
	}
	if rec.BodySuffix != "" {
		return regfile.Open(s.BodyPath(rec.ID) + "." + rec.BodySuffix)
	}
	return s.OpenBody(rec.ID)
}

func (s *Store) addPending(id string, b []byte) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	if s.pending == nil {
		s.pending = map[string][]byte{}
	}
	s.pending[id] = b
}

func (s *Store) dropPending(id string) {
	s.pendingMu.Lock()
	delete(s.pending, id)
	s.pendingMu.Unlock()
}

func (s *Store) pendingBody(id string) []byte {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	return s.pending[id]
}

// inlineCopyKey is where a record's inline derived copy (InlineSuffix)
// was kept in the inline bucket, beside its inline body under the ID.
func inlineCopyKey(id, suffix string) string { return id + "." + suffix }

// inlineBodyKey is the key of the body in a message's bucket of
// bucketBodies; a copy's key is its suffix, which has no NUL.
var inlineBodyKey = []byte{0}

// MaxInline is the largest body a caller should keep inline (Record.Inline):
// a notice of a few KB, not mail.
const MaxInline = 64 << 10

// InlineBody returns a copy of the inline body of record id; ErrNotFound
// when there is none (the record is final or gone).
func (s *Store) InlineBody(id string) ([]byte, error) { return s.inlineValue(id, "") }

// inlineValue returns a copy of message id's inline body (suffix "") or
// inline copy.
func (s *Store) inlineValue(id, suffix string) ([]byte, error) {
	var b []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := getInlineTx(tx, id, suffix)
		if v == nil {
			return ErrNotFound
		}
		b = bytes.Clone(v)
		return nil
	})
	return b, err
}

// getInlineTx reads an inline value from the message's bucket, or from
// the flat keys a spool written before those buckets has.
func getInlineTx(tx *bbolt.Tx, id, suffix string) []byte {
	key, flat := inlineBodyKey, id
	if suffix != "" {
		key, flat = []byte(suffix), inlineCopyKey(id, suffix)
	}
	// Open creates both; a database opened otherwise may lack one.
	if bodies := tx.Bucket(bucketBodies); bodies != nil {
		if b := bodies.Bucket([]byte(id)); b != nil {
			if v := b.Get(key); v != nil {
				return v
			}
		}
	}
	if fb := tx.Bucket(bucketInline); fb != nil {
		return fb.Get([]byte(flat))
	}
	return nil
}

// putInlineTx stores an inline value (suffix "" for the body).
func putInlineTx(tx *bbolt.Tx, id, suffix string, v []byte) error {
	if flatInline {
		key := id
		if suffix != "" {
			key = inlineCopyKey(id, suffix)
		}
		return tx.Bucket(bucketInline).Put([]byte(key), v)
	}
	b, err := tx.Bucket(bucketBodies).CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return err
	}
	key := inlineBodyKey
	if suffix != "" {
		key = []byte(suffix)
	}
	return b.Put(key, v)
}

// deleteInlineTx removes message id's inline body and copy (suffix, if
// any), in either layout.
func deleteInlineTx(tx *bbolt.Tx, id, suffix string) error {
	if err := tx.Bucket(bucketBodies).DeleteBucket([]byte(id)); err != nil && !errors.Is(err, bbolt.ErrBucketNotFound) {
		return err
	}
	flat := tx.Bucket(bucketInline)
	if err := flat.Delete([]byte(id)); err != nil {
		return err
	}
	if suffix != "" {
		return flat.Delete([]byte(inlineCopyKey(id, suffix)))
	}
	return nil
}

// RemoveBody deletes a message's files (the body and every derived copy)
// once its record is final or gone.
func (s *Store) RemoveBody(id string) error { return s.removeFiles(id, true) }

// RemoveFinished is RemoveBody for a record that has just become final,
// less the unlink of a body file that a body kept inline never had (it
// went from the database with the final state's commit): a failed
// unlink per delivered message. Purge still removes by ID what is left.
func (s *Store) RemoveFinished(rec *Record) error { return s.removeFiles(rec.ID, !rec.InlineBody) }

func (s *Store) removeFiles(id string, bodyFile bool) error {
	s.dropPending(id)
	s.takeUnsynced(id)
	var err error
	if bodyFile {
		err = os.Remove(s.BodyPath(id))
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	s.derivedMu.Lock()
	suffixes := s.derived[id]
	delete(s.derived, id)
	s.derivedMu.Unlock()
	for _, suffix := range suffixes {
		os.Remove(s.BodyPath(id) + "." + suffix)
	}
	return err
}

// addDerived notes a derived copy of id.
func (s *Store) addDerived(id, suffix string) {
	s.derivedMu.Lock()
	defer s.derivedMu.Unlock()
	if s.derived == nil {
		s.derived = map[string][]string{}
	}
	if !slices.Contains(s.derived[id], suffix) {
		s.derived[id] = append(s.derived[id], suffix)
	}
}

// forgetDerived drops a derived copy of id from the list.
func (s *Store) forgetDerived(id, suffix string) {
	s.derivedMu.Lock()
	defer s.derivedMu.Unlock()
	l := s.derived[id]
	if i := slices.Index(l, suffix); i >= 0 {
		l = slices.Delete(l, i, i+1)
	}
	if len(l) == 0 {
		delete(s.derived, id)
	} else {
		s.derived[id] = l
	}
}

// Accept makes a message owned: fsyncs the spool directory and commits the
// record (and whatever extra writes in the same transaction, e.g. a hold
// record). The body must have been committed with BodyWriter.Commit.
func (s *Store) Accept(rec *Record, extra func(tx *bbolt.Tx) error) error {
	return s.accept(rec, true, extra)
}

// AcceptInline is Accept for an acceptance that wrote no file into the
// spool directory (its body inline, no derived copy, no notice file): no
// name to make durable, so no fsync of the directory.
func (s *Store) AcceptInline(rec *Record, extra func(tx *bbolt.Tx) error) error {
	if rec.Inline == nil {
		return fmt.Errorf("accept %s inline: no inline body", rec.ID)
	}
	return s.accept(rec, false, extra)
}

func (s *Store) accept(rec *Record, syncDir bool, extra func(tx *bbolt.Tx) error) error {
	// Files closed without their fsync are made durable by this commit's
	// syncfs, whichever way it was asked for.
	syncFS := s.takeUnsynced(rec.ID)
	return s.submit(&commitReq{syncDir: syncDir || syncFS, syncFS: syncFS, done: make(chan error, 1), fn: func(tx *bbolt.Tx) error {
		if err := PutTx(tx, rec); err != nil {
			return err
		}
		if rec.Inline != nil {
			// From now on the database has it.
			id := rec.ID
			tx.OnCommit(func() { s.dropPending(id) })
		}
		if extra != nil {
			return extra(tx)
		}
		return nil
	}})
}

// Get reads a record.
func (s *Store) Get(id string) (*Record, error) {
	var rec *Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		rec, err = GetTx(tx, id)
		return err
	})
	return rec, err
}

// Update changes a record in a group-committed transaction. fn may return
// an error to abort without writing; it must not put or delete the record
// itself (the indexes are kept from the state read before fn).
func (s *Store) Update(id string, fn func(tx *bbolt.Tx, rec *Record) error) error {
	return s.commit(false, func(tx *bbolt.Tx) error {
		rec, err := GetTx(tx, id)
		if err != nil {
			return err
		}
		prev := indexed{rec.State, rec.NextAttempt}
		if err := fn(tx, rec); err != nil {
			return err
		}
		return putTx(tx, rec, &prev)
	})
}

// Replace writes rec over the stored record of the same ID in a
// group-committed transaction. Of the stored record it decodes only what
// check and the indexes need (its state and next attempt), not the
// recipients and report that rec replaces anyway. check may refuse the
// stored state, writing nothing; extra, if set, runs in the same
// transaction before rec is written.
func (s *Store) Replace(rec *Record, check func(State) error, extra func(tx *bbolt.Tx) error) error {
	return s.commit(false, func(tx *bbolt.Tx) error {
		prev, err := getIndexedTx(tx, rec.ID)
		if err != nil {
			return err
		}
		if err := check(prev.State); err != nil {
			return err
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		return putTx(tx, rec, &prev)
	})
}

// getIndexedTx decodes only the indexed fields of a stored record.
func getIndexedTx(tx *bbolt.Tx, id string) (indexed, error) {
	v := tx.Bucket(bucketMsgs).Get([]byte(id))
	if v == nil {
		return indexed{}, ErrNotFound
	}
	return decodeIndexed(id, v)
}

// Commit runs fn in a group-committed write transaction.
func (s *Store) Commit(fn func(tx *bbolt.Tx) error) error { return s.commit(false, fn) }

// GetTx reads a record inside a transaction.
func GetTx(tx *bbolt.Tx, id string) (*Record, error) {
	v := tx.Bucket(bucketMsgs).Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	rec := new(Record)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("decode record %s: %w", id, err)
	}
	rec.knownJSON = [2][]byte{rec.Report, rec.Decision}
	return rec, nil
}

// spliceAnalysis makes encodeRecord write Report and Decision as they
// are after the rest of the record, rather than let encoding/json check
// and compact them again; for A/B measurements.
var spliceAnalysis = true

// encodeRecord is json.Marshal(rec), less its cost on Report and
// Decision: a mail's report and decision are two thirds of its record,
// set on acceptance and rewritten unchanged with every state change, and
// encoding/json validates and compacts a json.RawMessage each time. They
// are appended to the record's other fields as they are: checked once
// with json.Valid, or not at all when they are the slices read from the
// database (knownJSON).
func encodeRecord(rec *Record) ([]byte, error) {
	if !spliceAnalysis || (len(rec.Report) == 0 && len(rec.Decision) == 0) {
		return json.Marshal(rec)
	}
	for i, raw := range [2]json.RawMessage{rec.Report, rec.Decision} {
		if len(raw) > 0 && !sameBytes(raw, rec.knownJSON[i]) && !json.Valid(raw) {
			return nil, fmt.Errorf("record %s: report or decision is not JSON", rec.ID)
		}
	}
	c := *rec
	c.Report, c.Decision = nil, nil
	v, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	// Less the closing brace: the object has "id" at least.
	out := make([]byte, 0, len(v)+len(rec.Report)+len(rec.Decision)+len(`,"report":,"decision":}`))
	out = append(out, v[:len(v)-1]...)
	if len(rec.Report) > 0 {
		out = append(append(out, `,"report":`...), rec.Report...)
	}
	if len(rec.Decision) > 0 {
		out = append(append(out, `,"decision":`...), rec.Decision...)
	}
	rec.knownJSON = [2][]byte{rec.Report, rec.Decision}
	return append(out, '}'), nil
}

// sameBytes reports whether a and b are the same slice of memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// PutTx writes a record and keeps the due index in step: a queued record is
// indexed by its next attempt; any other state is not in the index.
func PutTx(tx *bbolt.Tx, rec *Record) error { return putTx(tx, rec, nil) }

// indexed is what the indexes hold of a stored record.
type indexed struct {
	State       State     `json:"state"`
	NextAttempt time.Time `json:"next_attempt"`
}

// putTx is PutTx; prev, when the caller has just decoded the stored record
// in this transaction, spares decoding it again.
func putTx(tx *bbolt.Tx, rec *Record, prev *indexed) error {
	msgs := tx.Bucket(bucketMsgs)
	due := tx.Bucket(bucketDue)
	if prev == nil {
		if old := msgs.Get([]byte(rec.ID)); old != nil {
			// Only the fields the indexes need: decoding the whole
			// previous record (recipients, report) was most of a
			// rewrite's JSON cost.
			if p, err := decodeIndexed(rec.ID, old); err == nil {
				prev = &p
			}
		}
	}
	if prev != nil {
		if prev.State == StateQueued {
			if err := due.Delete(dueKey(prev.NextAttempt, rec.ID)); err != nil {
				return err
			}
		}
		if err := addCount(tx, prev.State, -1); err != nil {
			return err
		}
	}
	if err := addCount(tx, rec.State, 1); err != nil {
		return err
	}
	if rec.Inline != nil {
		if len(rec.Inline) == 0 {
			return fmt.Errorf("record %s: empty inline body", rec.ID)
		}
		rec.InlineBody = true
	}
	if rec.InlineCopy != nil && rec.InlineSuffix == "" {
		return fmt.Errorf("record %s: inline copy without a name", rec.ID)
	}
	if rec.InlineBody || rec.InlineSuffix != "" {
		// The body and the copy go with the final state, as a body file
		// goes with RemoveBody after such a commit (a password mail's
		// password must not outlive its delivery).
		if rec.State.Final() {
			if err := deleteInlineTx(tx, rec.ID, rec.InlineSuffix); err != nil {
				return err
			}
		} else {
			if rec.InlineBody && rec.Inline != nil {
				if err := putInlineTx(tx, rec.ID, "", rec.Inline); err != nil {
					return err
				}
			}
			if rec.InlineSuffix != "" && rec.InlineCopy != nil {
				if err := putInlineTx(tx, rec.ID, rec.InlineSuffix, rec.InlineCopy); err != nil {
					return err
				}
			}
		}
	}
	v, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	if err := msgs.Put([]byte(rec.ID), v); err != nil {
		return err
	}
	if len(rec.Steps) > 0 {
		err = tx.Bucket(bucketSteps).Put([]byte(rec.ID), nil)
	} else {
		err = tx.Bucket(bucketSteps).Delete([]byte(rec.ID))
	}
	if err != nil {
		return err
	}
	if rec.State == StateQueued {
		return due.Put(dueKey(rec.NextAttempt, rec.ID), nil)
	}
	return nil
}

// DeleteTx removes a record (and its index entry). The body file is removed
// by the caller after commit.
func DeleteTx(tx *bbolt.Tx, id string) error {
	rec, err := GetTx(tx, id)
	if err != nil {
		return err
	}
	if rec.State == StateQueued {
		if err := tx.Bucket(bucketDue).Delete(dueKey(rec.NextAttempt, rec.ID)); err != nil {
			return err
		}
	}
	if err := addCount(tx, rec.State, -1); err != nil {
		return err
	}
	if err := tx.Bucket(bucketSteps).Delete([]byte(id)); err != nil {
		return err
	}
	if err := deleteInlineTx(tx, id, rec.InlineSuffix); err != nil {
		return err
	}
	if err := ClearDeliveredTx(tx, id); err != nil {
		return err
	}
	return tx.Bucket(bucketMsgs).Delete([]byte(id))
}

// WithSteps lists up to limit IDs of records that have recorded steps.
func (s *Store) WithSteps(limit int) ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketSteps).Cursor()
		for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
			ids = append(ids, string(k))
		}
		return nil
	})
	return ids, err
}

func dueKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, id...)
}

// Due lists up to limit queued IDs whose next attempt is at or before now,
// earliest first, and the time of the next attempt after those (zero if
// none).
func (s *Store) Due(now time.Time, limit int) (ids []string, next time.Time, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDue).Cursor()
		nowKey := dueKey(now, "")
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if bytes.Compare(k[:8], nowKey[:8]) > 0 || len(ids) >= limit {
				next = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
				return nil
			}
			ids = append(ids, string(k[8:]))
		}
		return nil
	})
	return ids, next, err
}

// ForEach calls fn for every record, in ID (arrival) order, until it
// returns false. Stopping early is not an error.
func (s *Store) ForEach(fn func(rec *Record) bool) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketMsgs).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			rec := new(Record)
			if err := json.Unmarshal(v, rec); err != nil {
				return fmt.Errorf("decode record %s: %w", k, err)
			}
			rec.knownJSON = [2][]byte{rec.Report, rec.Decision}
			if !fn(rec) {
				return nil
			}
		}
		return nil
	})
}

// Counts returns the number of records in each state.
// Counts returns the number of records in each state, from counters kept
// in step with every write (a metrics scrape reads a handful of keys, not
// every record).
func (s *Store) Counts() (map[State]int, error) {
	counts := map[State]int{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if n := int(binary.BigEndian.Uint64(v)); n > 0 {
				counts[State(k)] = n
			}
			return nil
		})
	})
	return counts, err
}

func addCount(tx *bbolt.Tx, st State, delta int) error {
	b := tx.Bucket(bucketCounts)
	var n uint64
	if v := b.Get([]byte(st)); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	switch {
	case delta < 0 && n == 0:
		return nil
	case delta < 0:
		n--
	default:
		n++
	}
	return b.Put([]byte(st), binary.BigEndian.AppendUint64(nil, n))
}

// rebuildCountsTx counts every record once (a database from before the
// counters existed).
func rebuildCountsTx(tx *bbolt.Tx) error {
	b, err := tx.CreateBucket(bucketCounts)
	if err != nil {
		return err
	}
	counts := map[State]uint64{}
	err = tx.Bucket(bucketMsgs).ForEach(func(_, v []byte) error {
		var rec Record
		if json.Unmarshal(v, &rec) == nil {
			counts[rec.State]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	for st, n := range counts {
		if err := b.Put([]byte(st), binary.BigEndian.AppendUint64(nil, n)); err != nil {
			return err
		}
	}
	return nil
}

// reconcile removes body files that were never acknowledged and reports
// records whose body is missing.
func (s *Store) reconcile() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read spool dir: %w", err)
	}
	files := map[string]bool{}
	for _, e := range entries {
		files[e.Name()] = true
	}
	var orphans []string
	err = s.db.View(func(tx *bbolt.Tx) error {
		msgs := tx.Bucket(bucketMsgs)
		for name := range files {
			// Derived files (ID.something) belong to their message.
			id, suffix, isDerived := strings.Cut(name, ".")
			if msgs.Get([]byte(id)) == nil {
				orphans = append(orphans, name)
			} else if isDerived {
				s.addDerived(id, suffix)
			}
		}
		return msgs.ForEach(func(k, v []byte) error {
			var rec Record
			if json.Unmarshal(v, &rec) == nil && !rec.State.Final() && !files[string(k)] &&
				(!rec.InlineBody || getInlineTx(tx, string(k), "") == nil) {
				s.log.Error("spooled message has no body file", "queue_id", string(k), "state", rec.State)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("reconcile spool: %w", err)
	}
	for _, name := range orphans {
		// Never acknowledged with 250 (or a leftover of a finished
		// message): safe to remove.
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
			return fmt.Errorf("remove unacknowledged body: %w", err)
		}
	}
	if len(orphans) > 0 {
		s.log.Info("removed unacknowledged spool files", "count", len(orphans))
	}
	return nil
}

// Purge deletes records that finished before cutoff, with their files.
// It works in batches so the write lock is never held for long.
func (s *Store) Purge(cutoff time.Time) (int, error) {
	total := 0
	for {
		var ids []string
		err := s.db.View(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketMsgs).Cursor()
			for k, v := c.First(); k != nil && len(ids) < 500; k, v = c.Next() {
				var rec Record
				if json.Unmarshal(v, &rec) == nil && rec.State.Final() && len(rec.Steps) == 0 &&
					!rec.FinishedAt.IsZero() && rec.FinishedAt.Before(cutoff) {
					ids = append(ids, string(k))
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		err = s.commit(false, func(tx *bbolt.Tx) error {
			for _, id := range ids {
				if err := DeleteTx(tx, id); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		for _, id := range ids {
			s.RemoveBody(id)
		}
		total += len(ids)
		if len(ids) < 500 {
			return total, nil
		}
	}
}
