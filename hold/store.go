package hold

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"
)

// Options configure a Store. The hooks run inside the store's update
// transaction: whatever they write commits with the transition, and an error
// from them rolls the whole transition back. They get a copy of the record
// as it is after the change, without its report. They change records and
// record the steps to run afterwards, nothing else: no file I/O, no
// network, no transaction of their own (bbolt would deadlock), because
// every other writer waits while they run.
type Options struct {
	// OnRelease is called when a record becomes released (by a person, a
	// token or a delay's deadline); the gateway enqueues the message here.
	OnRelease func(tx *bbolt.Tx, rec *Record) error
	// OnDecided is called after OnRelease for every transition out of held,
	// e.g. to queue the notice to the sender.
	OnDecided func(tx *bbolt.Tx, rec *Record, from State) error
	// OnPurge is called for every purged record, e.g. to drop its spool entry.
	OnPurge func(tx *bbolt.Tx, rec *Record) error
	// Commit, if set, runs a transition's update transaction, e.g. the
	// spool's group commit, so that transitions and acceptances arriving
	// together share one bbolt commit instead of queueing for the writer
	// lock one by one. It must run fn in one write transaction, may run it
	// more than once (only the last run's effects commit), and returns its
	// error. Nil means db.Update.
	Commit func(fn func(tx *bbolt.Tx) error) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives timer and purge problems; nil discards them.
	Logger *slog.Logger
}

// Store is the hold store on a bbolt DB shared with the spool.
type Store struct {
	db   *bbolt.DB
	opts Options
	log  *slog.Logger
	wake chan struct{} // a new deadline may be earlier than the timer's
}

// New creates the store's buckets if needed. The DB stays owned by the
// caller; the Store never closes it.
func New(db *bbolt.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil db", ErrInvalid)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Commit == nil {
		opts.Commit = db.Update
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("init hold store: %w", err)
	}
	return &Store{db: db, opts: opts, log: log.With("component", "hold"), wake: make(chan struct{}, 1)}, nil
}

// Wake makes Run look at the deadlines now.
func (s *Store) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Store) now() time.Time { return s.opts.Now().UTC() }

// Create stores a new held record and its "hold" audit event. A zero
// CreatedAt becomes now.
func (s *Store) Create(ctx context.Context, rec *Record, actor Actor, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error { return s.CreateTx(tx, rec, actor, reason) })
}

// CreateTx is Create inside the caller's transaction, so the spool can
// write the message and its hold in one commit.
func (s *Store) CreateTx(tx *bbolt.Tx, rec *Record, actor Actor, reason string) error {
	if rec == nil {
		return fmt.Errorf("%w: nil record", ErrInvalid)
	}
	r := rec.clone()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	r.normalize()
	if err := r.validateNew(); err != nil {
		return err
	}
	r.State = StateHeld
	r.Mode, r.DecidedAt, r.DecidedBy, r.Reason = "", time.Time{}, Actor{}, ""
	r.Approvals = nil
	if tx.Bucket(bucketRecords).Get([]byte(r.ID)) != nil {
		return fmt.Errorf("%w: %s", ErrExists, r.ID)
	}
	if len(r.Report) > 0 {
		if err := tx.Bucket(bucketReports).Put([]byte(r.ID), r.Report); err != nil {
			return fmt.Errorf("put report: %w", err)
		}
	}
	if err := putRecord(tx, r); err != nil {
		return err
	}
	if err := addPostings(tx, r); err != nil {
		return err
	}
	if !r.Deadline.IsZero() {
		if err := tx.Bucket(bucketDeadlines).Put(timeID(r.Deadline, r.ID), nil); err != nil {
			return fmt.Errorf("put deadline: %w", err)
		}
	}
	if err := addCount(tx, r, 1); err != nil {
		return err
	}
	_, err := s.appendEventTx(tx, &Event{
		MessageID: r.ID, Actor: actor, Action: ActionHold, To: StateHeld, Reason: reason,
	})
	if err == nil && !r.Deadline.IsZero() {
		tx.OnCommit(s.Wake) // a short delay must not wait for the next tick
	}
	return err
}

// Get returns the record with its report.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec *Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		rec, err = GetTx(tx, id)
		return err
	})
	return rec, err
}

// GetTx is Get inside the caller's transaction.
func GetTx(tx *bbolt.Tx, id string) (*Record, error) {
	r, err := getRecord(tx, id)
	if err != nil {
		return nil, err
	}
	if rep := tx.Bucket(bucketReports).Get([]byte(id)); rep != nil {
		r.Report = append(json.RawMessage(nil), rep...)
	}
	return r, nil
}

// getRecord loads a record without its report.
func getRecord(tx *bbolt.Tx, id string) (*Record, error) {
	v := tx.Bucket(bucketRecords).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	var r Record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode record %s: %w", id, err)
	}
	return &r, nil
}

func putRecord(tx *bbolt.Tx, r *Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode record %s: %w", r.ID, err)
	}
	if err := tx.Bucket(bucketRecords).Put([]byte(r.ID), v); err != nil {
		return fmt.Errorf("put record %s: %w", r.ID, err)
	}
	return nil
}

func addPostings(tx *bbolt.Tx, r *Record) error {
	b := tx.Bucket(bucketIndex)
	suffix := timeID(r.CreatedAt, r.ID)
	for _, p := range postings(r) {
		if err := b.Put(concat(p, suffix), nil); err != nil {
			return fmt.Errorf("put index: %w", err)
		}
	}
	return nil
}

func deletePostings(tx *bbolt.Tx, r *Record) error {
	b := tx.Bucket(bucketIndex)
	suffix := timeID(r.CreatedAt, r.ID)
	for _, p := range postings(r) {
		if err := b.Delete(concat(p, suffix)); err != nil {
			return fmt.Errorf("delete index: %w", err)
		}
	}
	return nil
}

// countKeys are the counters a record contributes to.
func countKeys(r *Record) [][]byte {
	keys := [][]byte{[]byte(r.State)}
	if r.State == StateHeld {
		keys = append(keys, []byte(string(r.State)+"/"+string(r.Kind)))
	}
	return keys
}

func addCount(tx *bbolt.Tx, r *Record, delta int64) error {
	b := tx.Bucket(bucketCounts)
	for _, k := range countKeys(r) {
		var n uint64
		if v := b.Get(k); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		n = uint64(int64(n) + delta)
		if err := b.Put(k, u64(n)); err != nil {
			return fmt.Errorf("put count: %w", err)
		}
	}
	return nil
}

// Counts are the numbers of records per state and of held ones per kind.
type Counts struct {
	ByState    map[State]int `json:"by_state"`
	HeldByKind map[Kind]int  `json:"held_by_kind"`
}

// Counts reads the counters maintained with every change.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	c := Counts{ByState: map[State]int{}, HeldByKind: map[Kind]int{}}
	if err := ctx.Err(); err != nil {
		return c, err
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCounts)
		for _, st := range states {
			c.ByState[st] = int(readU64(b.Get([]byte(st))))
		}
		for _, k := range []Kind{KindSender, KindApprover, KindReview, KindDelay} {
			c.HeldByKind[k] = int(readU64(b.Get([]byte(string(StateHeld) + "/" + string(k)))))
		}
		return nil
	})
	return c, err
}

func readU64(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
