package sent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/atrest"
)

var (
	bucketRecords   = []byte("sent")           // queue ID → Record JSON
	bucketByTime    = []byte("sent_by_time")   // delivered at ‖ queue ID → nil
	bucketIncidents = []byte("sent_incidents") // queue ID → Incident JSON
	bucketTokens    = []byte("sent_tokens")    // confirm token hash → tokenRec JSON
	allBuckets      = [][]byte{bucketRecords, bucketByTime, bucketIncidents, bucketTokens}
)

// ErrNotFound is returned for a message with no sent record: never
// delivered, or purged after the retention.
var ErrNotFound = errors.New("sent: no record of this message (not delivered, or older than sent.retention)")

// purgeBatch bounds one purge transaction.
const purgeBatch = 500

// Store keeps sent records in the gateway's bbolt database.
type Store struct {
	DB *bbolt.DB
	// Retention is how long records are kept (sent.retention); Find and
	// the console say when a message is older than this.
	Retention time.Duration
	// BodyDir and Key, both set, keep each body encrypted (body.go).
	BodyDir string
	Key     *atrest.MasterKey
}

// Init creates the buckets.
func (s *Store) Init() error {
	return s.DB.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func timeKey(t time.Time, id string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())), id...)
}

// PutTx stores r in the caller's transaction (the one that records the
// message's final delivery state).
func (s *Store) PutTx(tx *bbolt.Tx, r *Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode sent record: %w", err)
	}
	recs, err := tx.CreateBucketIfNotExists(bucketRecords)
	if err != nil {
		return err
	}
	byTime, err := tx.CreateBucketIfNotExists(bucketByTime)
	if err != nil {
		return err
	}
	if old := recs.Get([]byte(r.ID)); old != nil {
		// a second final state (a retried record): keep one index entry
		var o Record
		if json.Unmarshal(old, &o) == nil {
			byTime.Delete(timeKey(o.DeliveredAt, o.ID))
		}
	}
	if err := recs.Put([]byte(r.ID), v); err != nil {
		return err
	}
	return byTime.Put(timeKey(r.DeliveredAt, r.ID), nil)
}

// Get returns the record of message id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	var r *Record
	err := s.DB.View(func(tx *bbolt.Tx) error {
		var err error
		r, err = getTx(tx, id)
		return err
	})
	return r, err
}

func getTx(tx *bbolt.Tx, id string) (*Record, error) {
	b := tx.Bucket(bucketRecords)
	if b == nil {
		return nil, ErrNotFound
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	r := &Record{}
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("decode sent record %s: %w", id, err)
	}
	return r, nil
}

// Query selects sent records; empty fields match everything. Text
// matches are case-insensitive.
type Query struct {
	Sender    string    // envelope or header sender contains this
	Recipient string    // some recipient address contains this
	Domain    string    // some recipient's domain is this or under it
	Subject   string    // subject contains this
	Detector  string    // some finding of this detector ("mynumber")
	Since     time.Time // delivered at or after
	Until     time.Time // delivered before
	Limit     int       // at most this many, newest first; 0 means 100
}

// MaxLimit bounds one answer.
const MaxLimit = 1000

func (q *Query) normalise() {
	q.Sender, q.Recipient = strings.ToLower(q.Sender), strings.ToLower(q.Recipient)
	q.Domain = strings.TrimPrefix(strings.ToLower(q.Domain), "@")
	q.Subject, q.Detector = strings.ToLower(q.Subject), strings.ToLower(q.Detector)
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, MaxLimit)
}

// Match reports whether r satisfies q (q normalised).
func (q *Query) match(r *Record) bool {
	if q.Sender != "" && !strings.Contains(strings.ToLower(r.MailFrom), q.Sender) && !strings.Contains(strings.ToLower(r.From), q.Sender) {
		return false
	}
	if q.Subject != "" && !strings.Contains(strings.ToLower(r.Subject), q.Subject) {
		return false
	}
	if q.Recipient != "" || q.Domain != "" {
		ok := false
		for _, a := range r.allRecipients() {
			d := a[strings.LastIndexByte(a, '@')+1:]
			if (q.Recipient == "" || strings.Contains(a, q.Recipient)) &&
				(q.Domain == "" || d == q.Domain || strings.HasSuffix(d, "."+q.Domain)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if q.Detector != "" {
		ok := false
		for _, f := range r.Findings {
			ok = ok || f.Detector == q.Detector
		}
		if !ok {
			return false
		}
	}
	return true
}

func (r *Record) allRecipients() []string {
	var out []string
	for _, rc := range r.Rcpts {
		out = append(out, strings.ToLower(rc.Addr))
	}
	for _, a := range append(append([]string(nil), r.To...), r.Cc...) {
		out = append(out, strings.ToLower(a))
	}
	return out
}

// Find returns the records matching q, newest first.
func (s *Store) Find(ctx context.Context, q Query) ([]*Record, error) {
	q.normalise()
	var out []*Record
	err := s.DB.View(func(tx *bbolt.Tx) error {
		idx := tx.Bucket(bucketByTime)
		if idx == nil {
			return nil
		}
		c := idx.Cursor()
		var k []byte
		if q.Until.IsZero() {
			k, _ = c.Last()
		} else if k, _ = c.Seek(timeKey(q.Until, "")); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for n := 0; k != nil && len(out) < q.Limit; k, _ = c.Prev() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if !q.Since.IsZero() && int64(binary.BigEndian.Uint64(k[:8])) < q.Since.UnixNano() {
				break
			}
			r, err := getTx(tx, string(k[8:]))
			if err != nil {
				continue
			}
			if q.match(r) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// Purge deletes records delivered before cutoff, with their incident
// state and confirm tokens, in bounded transactions; it returns how many
// records it deleted.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	end := timeKey(cutoff, "")[:8]
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		var gone []string
		err := s.DB.Update(func(tx *bbolt.Tx) error {
			gone = gone[:0]
			idx := tx.Bucket(bucketByTime)
			if idx == nil {
				return nil
			}
			c := idx.Cursor()
			for k, _ := c.First(); k != nil && n < purgeBatch && bytes.Compare(k[:8], end) < 0; k, _ = c.First() {
				id := string(k[8:])
				if err := deleteIncidentTx(tx, id); err != nil {
					return err
				}
				if err := tx.Bucket(bucketRecords).Delete([]byte(id)); err != nil {
					return err
				}
				if err := c.Delete(); err != nil {
					return err
				}
				gone = append(gone, id)
				n++
			}
			if n == 0 {
				return nil
			}
			return sweepTokensTx(tx)
		})
		if err != nil {
			return total, fmt.Errorf("purge sent records: %w", err)
		}
		s.removeBodies(gone) // after the commit: a crash leaves a file, never a record without one
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}
