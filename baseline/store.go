package baseline

import (
	"context"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"
)

// bucket holds one record per sender, keyed by the lower-cased address.
var bucket = []byte("sender_baselines")

// Bolt is the baseline store in the gateway's bbolt database.
type Bolt struct {
	DB *bbolt.DB
}

// Init creates the bucket.
func (s *Bolt) Init() error {
	return s.DB.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
}

// Load implements Store.
func (s *Bolt) Load(ctx context.Context, sender string) (Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, false, err
	}
	var (
		r  Record
		ok bool
	)
	err := s.DB.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(sender))
		if v == nil {
			return nil
		}
		var err error
		r, err = Unmarshal(v)
		ok = err == nil
		return err
	})
	if err != nil {
		return Record{}, false, fmt.Errorf("load baseline: %w", err)
	}
	return r, ok, nil
}

// Save writes the records in one transaction, replacing what is stored
// (tests, imports).
func (s *Bolt) Save(ctx context.Context, recs map[string]Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.DB.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		for k, r := range recs {
			if err := b.Put([]byte(k), r.Marshal()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save baselines: %w", err)
	}
	return nil
}

// Key is the store key of a sender: the lower-cased address.
func Key(sender string) string { return strings.ToLower(sender) }

// Merge implements Store: one bbolt transaction, the node's only writer.
func (s *Bolt) Merge(ctx context.Context, obs map[string][]Observation, apply func(*Record, []Observation)) (map[string]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]Record, len(obs))
	err := s.DB.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		for k, os := range obs {
			var r Record
			if v := b.Get([]byte(k)); v != nil {
				r, _ = Unmarshal(v) // a corrupt record starts anew
			}
			apply(&r, os)
			if err := b.Put([]byte(k), r.Marshal()); err != nil {
				return err
			}
			out[k] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("save baselines: %w", err)
	}
	return out, nil
}

// All calls fn with every stored record (imports); a record that does not
// decode is skipped.
func (s *Bolt) All(fn func(key string, r Record) error) error {
	return s.DB.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			r, err := Unmarshal(v)
			if err != nil {
				return nil
			}
			return fn(string(k), r)
		})
	})
}
