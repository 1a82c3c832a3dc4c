package hold

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Role is what a link token lets its holder do.
type Role string

// Token roles used by notices; callers may define more.
const (
	RoleSender            Role = "sender"   // confirm or cancel own message
	RoleApprover          Role = "approver" // approve or reject
	RoleReviewer          Role = "reviewer" // security team review
	RoleRecipientDownload Role = "recipient-download"
)

// Token is the stored record of a link token: only its SHA-256 hash, the
// message and role it is bound to, and when it expires or was used.
type Token struct {
	Hash      [32]byte `json:"-"`
	MessageID string   `json:"message_id"`
	Role      Role     `json:"role"`
	// Subject is the person the link was sent to (an approver's address),
	// empty for a link to a role. A state change through the token is
	// recorded as theirs.
	Subject   string    `json:"subject,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Expires   time.Time `json:"expires"`
	UsedAt    time.Time `json:"used_at,omitzero"`
	UsedBy    Actor     `json:"used_by,omitzero"`
}

// AddToken stores a token's record. The message must exist.
func (s *Store) AddToken(ctx context.Context, t Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error { return s.AddTokenTx(tx, t) })
}

// AddTokenTx is AddToken inside the caller's transaction, e.g. the one
// that created the hold.
func (s *Store) AddTokenTx(tx *bbolt.Tx, t Token) error {
	switch {
	case t.Hash == [32]byte{}:
		return fmt.Errorf("%w: zero token hash", ErrInvalid)
	case t.Role == "":
		return fmt.Errorf("%w: token without role", ErrInvalid)
	case t.Expires.IsZero():
		return fmt.Errorf("%w: token without expiry", ErrInvalid)
	}
	if tx.Bucket(bucketRecords).Get([]byte(t.MessageID)) == nil {
		return fmt.Errorf("%w: token for %q", ErrNotFound, t.MessageID)
	}
	b := tx.Bucket(bucketTokens)
	if b.Get(t.Hash[:]) != nil {
		return fmt.Errorf("%w: token hash", ErrExists)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.CreatedAt, t.Expires = t.CreatedAt.UTC(), t.Expires.UTC()
	t.Subject = normalApprover(t.Subject)
	t.UsedAt, t.UsedBy = time.Time{}, Actor{}
	if err := putToken(tx, &t); err != nil {
		return err
	}
	if err := tx.Bucket(bucketTokenMsg).Put(concat(lp(nil, t.MessageID), t.Hash[:]), nil); err != nil {
		return fmt.Errorf("put token index: %w", err)
	}
	if err := tx.Bucket(bucketTokenExp).Put(concat(timeKey(t.Expires), t.Hash[:]), nil); err != nil {
		return fmt.Errorf("put token expiry: %w", err)
	}
	return nil
}

// LookupToken checks a token for a GET page without consuming it. For a
// used or expired token it returns the token and its record with the error,
// so the page can show what became of the message; for an unknown or
// wrong-role token it returns only the error.
func (s *Store) LookupToken(ctx context.Context, hash [32]byte, role Role, now time.Time) (*Token, *Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var tok *Token
	var rec *Record
	var result error
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		tok, result = checkToken(tx, hash, role, now)
		if tok == nil {
			return nil
		}
		rec, err = GetTx(tx, tok.MessageID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return tok, rec, result
}

// UseToken consumes a single-use token that changes no hold state (for
// instance a one-time download). State changes use TransitionWithToken.
func (s *Store) UseToken(ctx context.Context, hash [32]byte, role Role, now time.Time, actor Actor) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var tok *Token
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		tok, err = UseTokenTx(tx, hash, role, now, actor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// UseTokenTx is UseToken inside the caller's transaction.
func UseTokenTx(tx *bbolt.Tx, hash [32]byte, role Role, now time.Time, actor Actor) (*Token, error) {
	tok, err := checkToken(tx, hash, role, now)
	if err != nil {
		return nil, err
	}
	if err := markTokenUsed(tx, tok, now, actor); err != nil {
		return nil, err
	}
	return tok, nil
}

// checkToken returns the token and nil if it may be used now. It returns
// the token with ErrTokenUsed or ErrTokenExpired, and no token with
// ErrTokenUnknown or ErrTokenWrongRole. A used token reports ErrTokenUsed
// even once expired: "already used" is what its holder needs to hear.
func checkToken(tx *bbolt.Tx, hash [32]byte, role Role, now time.Time) (*Token, error) {
	v := tx.Bucket(bucketTokens).Get(hash[:])
	if v == nil {
		return nil, ErrTokenUnknown
	}
	var t Token
	if err := json.Unmarshal(v, &t); err != nil {
		return nil, fmt.Errorf("decode token: %w", err)
	}
	t.Hash = hash
	switch {
	case t.Role != role:
		return nil, ErrTokenWrongRole
	case !t.UsedAt.IsZero():
		return &t, ErrTokenUsed
	case !now.Before(t.Expires):
		return &t, ErrTokenExpired
	}
	return &t, nil
}

func markTokenUsed(tx *bbolt.Tx, t *Token, now time.Time, actor Actor) error {
	t.UsedAt, t.UsedBy = now.UTC(), actor
	return putToken(tx, t)
}

func putToken(tx *bbolt.Tx, t *Token) error {
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode token: %w", err)
	}
	if err := tx.Bucket(bucketTokens).Put(t.Hash[:], v); err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// deleteTokensTx removes every token bound to a message.
func deleteTokensTx(tx *bbolt.Tx, id string) error {
	prefix := lp(nil, id)
	var hashes [][32]byte
	c := tx.Bucket(bucketTokenMsg).Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		hashes = append(hashes, [32]byte(k[len(prefix):]))
	}
	for _, h := range hashes {
		if err := deleteToken(tx, h); err != nil {
			return err
		}
	}
	return nil
}

// deleteToken removes a token with its message link and expiry entry.
func deleteToken(tx *bbolt.Tx, hash [32]byte) error {
	tokens := tx.Bucket(bucketTokens)
	v := tokens.Get(hash[:])
	if v == nil {
		return nil
	}
	var t Token
	if err := json.Unmarshal(v, &t); err != nil {
		return fmt.Errorf("decode token: %w", err)
	}
	if err := tx.Bucket(bucketTokenMsg).Delete(concat(lp(nil, t.MessageID), hash[:])); err != nil {
		return fmt.Errorf("delete token link: %w", err)
	}
	if err := tx.Bucket(bucketTokenExp).Delete(concat(timeKey(t.Expires), hash[:])); err != nil {
		return fmt.Errorf("delete token expiry: %w", err)
	}
	if err := tokens.Delete(hash[:]); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}
