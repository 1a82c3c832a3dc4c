package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Accounts keeps the console's accounts (password hash, TOTP secret,
// role) and sessions (stored under the hash of their ID). The default is
// this node's bbolt DB; with storage.driver postgres it is the database
// the nodes share (package consolepg), so an account added on one node
// signs in on every node and a session made on one is valid on all.
//
// Records are the console's own JSON; a store keeps them opaque and
// indexes only what it is given (a session's user and expiry).
type Accounts interface {
	// User is an account's record; ErrUserNotFound when there is none.
	User(ctx context.Context, name string) ([]byte, error)
	// AddUser stores a new account; ErrUserExists when the name is taken.
	AddUser(ctx context.Context, name string, rec []byte) error
	// UpdateUser rewrites one account atomically (the row locked): fn
	// gets the stored record and returns the new one; an error from fn
	// changes nothing and is returned. With revoke the account's sessions
	// end in the same transaction.
	UpdateUser(ctx context.Context, name string, revoke bool, fn func([]byte) ([]byte, error)) error
	// Users are every account's record, by name.
	Users(ctx context.Context) ([][]byte, error)
	// DeleteUser removes an account and its sessions; ErrUserNotFound
	// when there is none.
	DeleteUser(ctx context.Context, name string) error

	// Session is the record stored under key, nil when there is none.
	Session(ctx context.Context, key [32]byte) ([]byte, error)
	// PutSession stores a session of user ("" before sign-in) that may be
	// swept after expires, deleting old (when not nil) in the same
	// transaction.
	PutSession(ctx context.Context, key [32]byte, old *[32]byte, user string, expires time.Time, rec []byte) error
	// TakeSession deletes and returns the record under key (nil when
	// none): a single-use state.
	TakeSession(ctx context.Context, key [32]byte) ([]byte, error)
	// DeleteSession removes one session.
	DeleteSession(ctx context.Context, key [32]byte) error
	// Sweep deletes up to limit sessions expired at now.
	Sweep(ctx context.Context, now time.Time, limit int) error
}

// storeTimeout bounds one accounts store call made without a request.
const storeTimeout = 10 * time.Second

func storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}

// sessionExpiry is when a stored session may be swept.
func (s *session) expiry() time.Time {
	life := absoluteTimeout
	if s.Stage != stageFull {
		life = signInTimeout
	}
	return minTime(s.Seen.Add(idleTimeout), s.Created.Add(life))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// BoltAccounts keeps accounts and sessions in buckets of a node's bbolt
// DB (console_users by name, console_sessions by hashed ID).
type BoltAccounts struct{ db *bbolt.DB }

// NewBoltAccounts creates the buckets if needed.
func NewBoltAccounts(db *bbolt.DB) (*BoltAccounts, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil db", ErrInvalidUser)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketUsers); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(bucketSessions)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create console buckets: %w", err)
	}
	return &BoltAccounts{db: db}, nil
}

func (b *BoltAccounts) User(_ context.Context, name string) ([]byte, error) {
	var out []byte
	err := b.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketUsers).Get([]byte(name))
		if v == nil {
			return fmt.Errorf("%w: %s", ErrUserNotFound, name)
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

func (b *BoltAccounts) AddUser(_ context.Context, name string, rec []byte) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketUsers)
		if bk.Get([]byte(name)) != nil {
			return fmt.Errorf("%w: %s", ErrUserExists, name)
		}
		return bk.Put([]byte(name), rec)
	})
}

func (b *BoltAccounts) UpdateUser(_ context.Context, name string, revoke bool, fn func([]byte) ([]byte, error)) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketUsers)
		v := bk.Get([]byte(name))
		if v == nil {
			return fmt.Errorf("%w: %s", ErrUserNotFound, name)
		}
		nv, err := fn(append([]byte(nil), v...))
		if err != nil {
			return err
		}
		if revoke {
			if err := revokeSessions(tx, name); err != nil {
				return err
			}
		}
		return bk.Put([]byte(name), nv)
	})
}

func (b *BoltAccounts) Users(context.Context) ([][]byte, error) {
	var out [][]byte
	err := b.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			out = append(out, append([]byte(nil), v...))
			return nil
		})
	})
	return out, err
}

func (b *BoltAccounts) DeleteUser(_ context.Context, name string) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketUsers)
		if bk.Get([]byte(name)) == nil {
			return fmt.Errorf("%w: %s", ErrUserNotFound, name)
		}
		if err := revokeSessions(tx, name); err != nil {
			return err
		}
		return bk.Delete([]byte(name))
	})
}

func (b *BoltAccounts) Session(_ context.Context, key [32]byte) ([]byte, error) {
	var out []byte
	err := b.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketSessions).Get(key[:]); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

func (b *BoltAccounts) PutSession(_ context.Context, key [32]byte, old *[32]byte, _ string, _ time.Time, rec []byte) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketSessions)
		if old != nil {
			if err := bk.Delete(old[:]); err != nil {
				return err
			}
		}
		return bk.Put(key[:], rec)
	})
}

func (b *BoltAccounts) TakeSession(_ context.Context, key [32]byte) ([]byte, error) {
	var out []byte
	err := b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketSessions)
		if v := bk.Get(key[:]); v != nil {
			out = append([]byte(nil), v...)
		}
		return bk.Delete(key[:])
	})
	return out, err
}

func (b *BoltAccounts) DeleteSession(_ context.Context, key [32]byte) error {
	return b.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketSessions).Delete(key[:]) })
}

// Sweep decodes sessions to find expired ones: bbolt keeps no expiry
// index, and the bound keeps one sweep short.
func (b *BoltAccounts) Sweep(_ context.Context, now time.Time, limit int) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketSessions)
		var dead [][]byte
		c := bk.Cursor()
		for k, v := c.First(); k != nil && len(dead) < limit; k, v = c.Next() {
			var s session
			if json.Unmarshal(v, &s) != nil || s.expired(now) {
				dead = append(dead, append([]byte(nil), k...))
			}
		}
		for _, k := range dead {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// revokeSessions deletes every session of an account.
func revokeSessions(tx *bbolt.Tx, name string) error {
	b := tx.Bucket(bucketSessions)
	if b == nil {
		return nil
	}
	var dead [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var s session
		if json.Unmarshal(v, &s) != nil || s.User == name {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// CopyUsers copies every account of from into to (sendguard db import:
// a single node's accounts into the nodes' shared store). Sessions are
// not copied: everyone signs in again on the new store. An account to
// already has is kept as it is there; running it twice adds nothing.
func CopyUsers(ctx context.Context, from, to Accounts) (added, present int, err error) {
	recs, err := from.Users(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, v := range recs {
		var u user
		if err := json.Unmarshal(v, &u); err != nil || !validName(u.Name) {
			return added, present, fmt.Errorf("%w: stored account %q", ErrInvalidUser, u.Name)
		}
		switch err := to.AddUser(ctx, u.Name, v); {
		case errors.Is(err, ErrUserExists):
			present++
		case err != nil:
			return added, present, err
		default:
			added++
		}
	}
	return added, present, nil
}
