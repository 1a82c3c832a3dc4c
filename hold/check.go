package hold

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// Check rebuilds every secondary index from the records in memory and
// compares it with the stored one: list postings, deadlines, purge entries,
// counters and token links. It reads the whole store (O(records)); it is
// for tests, crash recovery checks and an admin "fsck", not for the hot
// path. It returns every difference found, joined.
func (s *Store) Check(ctx context.Context) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		want := map[string]map[string]bool{
			string(bucketIndex): {}, string(bucketDeadlines): {}, string(bucketPurge): {},
		}
		counts := map[string]uint64{}
		var errs []error
		n := 0
		err := tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			r, err := getRecord(tx, string(k))
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			suffix := timeID(r.CreatedAt, r.ID)
			for _, p := range postings(r) {
				want[string(bucketIndex)][string(concat(p, suffix))] = true
			}
			if r.State == StateHeld && !r.Deadline.IsZero() {
				want[string(bucketDeadlines)][string(timeID(r.Deadline, r.ID))] = true
			}
			if r.State.purgeable() {
				want[string(bucketPurge)][string(timeID(r.DecidedAt, r.ID))] = true
			}
			for _, c := range countKeys(r) {
				counts[string(c)]++
			}
			return nil
		})
		if err != nil {
			return err
		}
		for name, keys := range want {
			errs = append(errs, compareKeys(tx.Bucket([]byte(name)), name, keys)...)
		}
		err = tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if got := readU64(v); got != counts[string(k)] {
				errs = append(errs, fmt.Errorf("count %s is %d, records say %d", k, got, counts[string(k)]))
			}
			delete(counts, string(k))
			return nil
		})
		if err != nil {
			return err
		}
		for k, c := range counts {
			errs = append(errs, fmt.Errorf("count %s missing, records say %d", k, c))
		}
		errs = append(errs, checkTokenLinks(tx)...)
		return errors.Join(errs...)
	})
}

func compareKeys(b *bbolt.Bucket, name string, want map[string]bool) []error {
	var errs []error
	seen := 0
	b.ForEach(func(k, _ []byte) error {
		if !want[string(k)] {
			errs = append(errs, fmt.Errorf("%s: stray key %q", name, k))
		} else {
			seen++
		}
		return nil
	})
	if seen != len(want) {
		errs = append(errs, fmt.Errorf("%s: %d keys missing", name, len(want)-seen))
	}
	return errs
}

// checkTokenLinks checks that every token belongs to an existing record
// and is linked from it, and every link points at a token.
func checkTokenLinks(tx *bbolt.Tx) []error {
	var errs []error
	tokens, links, records := tx.Bucket(bucketTokens), tx.Bucket(bucketTokenMsg), tx.Bucket(bucketRecords)
	linked := 0
	links.ForEach(func(k, _ []byte) error {
		if len(k) < 2+32 {
			errs = append(errs, fmt.Errorf("token link %x malformed", k))
			return nil
		}
		hash := k[len(k)-32:]
		id := k[2 : len(k)-32]
		if tokens.Get(hash) == nil {
			errs = append(errs, fmt.Errorf("token link of %s to missing token", id))
		}
		if records.Get(id) == nil {
			errs = append(errs, fmt.Errorf("token link of missing record %s", id))
		}
		linked++
		return nil
	})
	expiring := 0
	tx.Bucket(bucketTokenExp).ForEach(func(k, _ []byte) error {
		expiring++
		if len(k) != 8+32 || tokens.Get(k[8:]) == nil {
			errs = append(errs, fmt.Errorf("token expiry %x without token", k))
		}
		return nil
	})
	if n := tokens.Stats().KeyN; n != linked || n != expiring {
		errs = append(errs, fmt.Errorf("%d tokens, %d links, %d expiry entries", n, linked, expiring))
	}
	return errs
}
