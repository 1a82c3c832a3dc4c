package hold

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Hash is a SHA-256 digest, hex in JSON.
type Hash [32]byte

// MarshalText writes the hash as lower-case hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h[:])), nil }

// UnmarshalText reads a hex hash.
func (h *Hash) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(h) {
		return fmt.Errorf("%w: hash length %d", ErrInvalid, len(b))
	}
	_, err := hex.Decode(h[:], b)
	return err
}

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Event is one audit log entry. Seq, Time, PrevHash and Hash are set by
// the store when the event is appended.
type Event struct {
	Seq       uint64      `json:"seq"`
	Time      time.Time   `json:"time"`
	MessageID string      `json:"message_id,omitempty"`
	Actor     Actor       `json:"actor"`
	Action    string      `json:"action"`
	From      State       `json:"from,omitempty"`
	To        State       `json:"to,omitempty"`
	Mode      ReleaseMode `json:"mode,omitempty"`
	Reason    string      `json:"reason,omitempty"`
	PrevHash  Hash        `json:"prev_hash"`
	Hash      Hash        `json:"hash"`
}

// canonicalTag versions the canonical encoding.
const canonicalTag = "sendguard-audit-v1"

// Canonical is the byte string an event's hash covers: every field but
// Hash, in a fixed order, strings length-prefixed, the time as Unix
// nanoseconds. It does not depend on JSON encoding details.
func (e *Event) Canonical() []byte {
	b := make([]byte, 0, 256)
	b = binary.AppendUvarint(b, uint64(len(canonicalTag)))
	b = append(b, canonicalTag...)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	for _, s := range []string{
		e.MessageID, e.Actor.Name, e.Actor.Role, e.Actor.IP, e.Actor.UserAgent,
		e.Action, string(e.From), string(e.To), string(e.Mode), e.Reason,
	} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return append(b, e.PrevHash[:]...)
}

func (e *Event) computeHash() Hash { return sha256.Sum256(e.Canonical()) }

// head is the last event's sequence number and hash, kept so that an
// append costs O(1) and a truncated log shows in Verify.
type head struct {
	seq  uint64
	hash Hash
	time time.Time
}

func readHead(tx *bbolt.Tx) head {
	v := tx.Bucket(bucketAuditMeta).Get(keyHead)
	if len(v) != 48 {
		return head{}
	}
	var h head
	h.seq = binary.BigEndian.Uint64(v[:8])
	copy(h.hash[:], v[8:40])
	h.time = time.Unix(0, int64(binary.BigEndian.Uint64(v[40:]))).UTC()
	return h
}

func writeHead(tx *bbolt.Tx, h head) error {
	v := binary.BigEndian.AppendUint64(nil, h.seq)
	v = append(v, h.hash[:]...)
	v = binary.BigEndian.AppendUint64(v, uint64(h.time.UnixNano()))
	return tx.Bucket(bucketAuditMeta).Put(keyHead, v)
}

// AppendEvent adds an event that is not a transition (a sign-in, a page
// view, a download) to the audit log and returns it as stored.
func (s *Store) AppendEvent(ctx context.Context, e Event) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, err
	}
	var out Event
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		out, err = s.AppendEventTx(tx, e)
		return err
	})
	return out, err
}

// AppendEventTx is AppendEvent inside the caller's transaction.
func (s *Store) AppendEventTx(tx *bbolt.Tx, e Event) (Event, error) {
	if e.Action == "" {
		return Event{}, fmt.Errorf("%w: event without action", ErrInvalid)
	}
	if len(e.MessageID) > maxIDLen {
		return Event{}, fmt.Errorf("%w: message id too long", ErrInvalid)
	}
	return s.appendEventTx(tx, &e)
}

// appendEventTx assigns seq, time and hashes and stores the event. Times
// never decrease along the chain, even if the clock steps back, so that a
// time range is a contiguous run of sequence numbers.
func (s *Store) appendEventTx(tx *bbolt.Tx, e *Event) (Event, error) {
	h := readHead(tx)
	e.Seq = h.seq + 1
	e.Time = s.now()
	if e.Time.Before(h.time) {
		e.Time = h.time
	}
	e.PrevHash = h.hash
	e.Hash = e.computeHash()
	v, err := json.Marshal(e)
	if err != nil {
		return Event{}, fmt.Errorf("encode event: %w", err)
	}
	if err := tx.Bucket(bucketEvents).Put(u64(e.Seq), v); err != nil {
		return Event{}, fmt.Errorf("put event: %w", err)
	}
	if e.MessageID != "" {
		if err := tx.Bucket(bucketEventMsg).Put(concat(lp(nil, e.MessageID), u64(e.Seq)), nil); err != nil {
			return Event{}, fmt.Errorf("put event index: %w", err)
		}
	}
	if err := writeHead(tx, head{seq: e.Seq, hash: e.Hash, time: e.Time}); err != nil {
		return Event{}, fmt.Errorf("put audit head: %w", err)
	}
	return *e, nil
}

func decodeEvent(v []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(v, &e); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	return e, nil
}

// Events returns a message's events in order.
func (s *Store) Events(ctx context.Context, id string) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Event
	err := s.db.View(func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		prefix := lp(nil, id)
		c := tx.Bucket(bucketEventMsg).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			v := events.Get(k[len(prefix):])
			if v == nil {
				return fmt.Errorf("event %x of %s missing", k[len(prefix):], id)
			}
			e, err := decodeEvent(v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Head returns the last event's sequence number and hash. Recording it
// elsewhere (a log line, a notice) anchors the chain: Verify cannot detect
// a consistent rewrite of the whole tail, but the anchor can.
func (s *Store) Head(ctx context.Context) (uint64, Hash, error) {
	if err := ctx.Err(); err != nil {
		return 0, Hash{}, err
	}
	var h head
	err := s.db.View(func(tx *bbolt.Tx) error { h = readHead(tx); return nil })
	return h.seq, h.hash, err
}

// Verify walks the whole chain. It returns the number of events and a
// *ChainError naming the first sequence number whose event is missing,
// undecodable, out of place, out of time order, or whose hashes do not
// match.
func (s *Store) Verify(ctx context.Context) (uint64, error) {
	var n uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var prev Hash
		var prevTime time.Time
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			want := n + 1
			if len(k) != 8 || binary.BigEndian.Uint64(k) != want {
				return &ChainError{Seq: want, Reason: "missing event"}
			}
			e, err := decodeEvent(v)
			switch {
			case err != nil:
				return &ChainError{Seq: want, Reason: "undecodable event"}
			case e.Seq != want:
				return &ChainError{Seq: want, Reason: fmt.Sprintf("event claims seq %d", e.Seq)}
			case e.PrevHash != prev:
				return &ChainError{Seq: want, Reason: "prev_hash does not match the previous event"}
			case e.computeHash() != e.Hash:
				return &ChainError{Seq: want, Reason: "hash does not match the event"}
			case e.Time.Before(prevTime):
				return &ChainError{Seq: want, Reason: "time goes back"}
			}
			prev, prevTime, n = e.Hash, e.Time, want
		}
		h := readHead(tx)
		switch {
		case h.seq > n:
			return &ChainError{Seq: n + 1, Reason: fmt.Sprintf("log ends at %d, head says %d", n, h.seq)}
		case h.seq < n:
			return &ChainError{Seq: h.seq + 1, Reason: fmt.Sprintf("log goes on past head %d", h.seq)}
		case h.hash != prev:
			return &ChainError{Seq: n, Reason: "head hash does not match the last event"}
		}
		return nil
	})
	return n, err
}

func hasPrefix(k, prefix []byte) bool { return bytes.HasPrefix(k, prefix) }
