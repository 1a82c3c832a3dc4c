package hold

import (
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"
)

// ImportTx stores a record as another store decided it (the shared held
// queue of several nodes), in any state, with its report, indexes and
// counters but without an audit event: the event is in the chain of the
// store that made the decision. It refuses an ID already stored.
func ImportTx(tx *bbolt.Tx, rec *Record) error {
	if rec == nil || !rec.State.valid() || !rec.Kind.valid() || rec.ID == "" || len(rec.ID) > maxIDLen {
		return fmt.Errorf("%w: record to import", ErrInvalid)
	}
	r := rec.clone()
	r.normalize()
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
	if r.State == StateHeld && !r.Deadline.IsZero() {
		if err := tx.Bucket(bucketDeadlines).Put(timeID(r.Deadline, r.ID), nil); err != nil {
			return fmt.Errorf("put deadline: %w", err)
		}
	}
	if r.State.purgeable() {
		if err := tx.Bucket(bucketPurge).Put(timeID(r.DecidedAt, r.ID), nil); err != nil {
			return fmt.Errorf("put purge index: %w", err)
		}
	}
	return addCount(tx, r, 1)
}

// TokensTx lists the tokens bound to a message, hashes included, so that
// a message moved to another store keeps its links working.
func TokensTx(tx *bbolt.Tx, id string) ([]Token, error) {
	prefix := lp(nil, id)
	var out []Token
	c := tx.Bucket(bucketTokenMsg).Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		hash := [32]byte(k[len(prefix):])
		v := tx.Bucket(bucketTokens).Get(hash[:])
		if v == nil {
			continue
		}
		var t Token
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, fmt.Errorf("decode token: %w", err)
		}
		t.Hash = hash
		out = append(out, t)
	}
	return out, nil
}

// ForgetTx removes a record that moved to another store (the shared held
// queue), with its report, indexes, deadline and tokens. Its audit events
// stay; the caller appends one saying where it went.
func ForgetTx(tx *bbolt.Tx, id string) error {
	r, err := getRecord(tx, id)
	if err != nil {
		return err
	}
	if err := deletePostings(tx, r); err != nil {
		return err
	}
	if err := addCount(tx, r, -1); err != nil {
		return err
	}
	if !r.Deadline.IsZero() {
		if err := tx.Bucket(bucketDeadlines).Delete(timeID(r.Deadline, r.ID)); err != nil {
			return fmt.Errorf("delete deadline: %w", err)
		}
	}
	if r.State.purgeable() {
		if err := tx.Bucket(bucketPurge).Delete(timeID(r.DecidedAt, r.ID)); err != nil {
			return fmt.Errorf("delete purge index: %w", err)
		}
	}
	if err := deleteTokensTx(tx, id); err != nil {
		return err
	}
	if err := tx.Bucket(bucketReports).Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete report: %w", err)
	}
	return tx.Bucket(bucketRecords).Delete([]byte(id))
}

// HeldIDsTx lists up to limit records in state held, oldest first.
func HeldIDsTx(tx *bbolt.Tx, limit int) []string {
	var ids []string
	prefix := postingPrefix(fieldState, string(StateHeld))
	c := tx.Bucket(bucketIndex).Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix) && len(ids) < limit; k, _ = c.Next() {
		_, id := splitTimeID(k[len(prefix):])
		ids = append(ids, id)
	}
	return ids
}

// ModeOf is the release mode a transition's options ask for (ModeAsIs
// without WithMode), for stores other than this one.
func ModeOf(opts ...TransitionOption) ReleaseMode {
	o := transitionOpts{}
	for _, f := range opts {
		f(&o)
	}
	if o.mode == "" {
		return ModeAsIs
	}
	return o.mode
}
