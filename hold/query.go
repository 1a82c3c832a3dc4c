package hold

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Filter selects records for the console; zero fields match everything.
// Several fields intersect.
type Filter struct {
	State           State
	Kind            Kind
	Rule            string
	Sender          string
	RecipientDomain string
	From, To        time.Time // creation time: From inclusive, To exclusive
}

// Page asks for one page of a listing.
type Page struct {
	Cursor string // Next of the previous page, "" for the first
	Limit  int    // 1..500, default 50
	Oldest bool   // oldest first; the default is newest first
}

// ListResult is one page of records (without reports) and the cursor of
// the next page, "" when there is none.
type ListResult struct {
	Records []*Record
	Next    string
}

// List returns a page of records matching f, sorted by creation time.
//
// Every filter field is a posting list in hold_index ordered by
// (creation time, id); List intersects them by leapfrogging cursors, so a
// page costs a few seeks per returned record plus one per skipped run,
// not a scan of the store.
func (s *Store) List(ctx context.Context, f Filter, p Page) (ListResult, error) {
	if err := ctx.Err(); err != nil {
		return ListResult{}, err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var after []byte
	if p.Cursor != "" {
		var err error
		if after, err = base64.RawURLEncoding.DecodeString(p.Cursor); err != nil || len(after) < 8 {
			return ListResult{}, fmt.Errorf("%w: cursor", ErrInvalid)
		}
	}
	var res ListResult
	var lastKey []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		j := newJoin(tx.Bucket(bucketIndex), prefixesFor(f), !p.Oldest, f.From, f.To)
		var k []byte
		if after != nil {
			k = j.first(after, false)
		} else {
			k = j.first(nil, true)
		}
		for ; k != nil; k = j.next(k) {
			if len(res.Records) == limit {
				res.Next = base64.RawURLEncoding.EncodeToString(lastKey)
				return nil
			}
			_, id := splitTimeID(k)
			r, err := getRecord(tx, id)
			if err != nil {
				return err
			}
			res.Records = append(res.Records, r)
			lastKey = append(lastKey[:0], k...)
		}
		return nil
	})
	return res, err
}

func prefixesFor(f Filter) [][]byte {
	var p [][]byte
	add := func(field byte, v string) {
		if v != "" {
			p = append(p, postingPrefix(field, v))
		}
	}
	add(fieldState, string(f.State))
	add(fieldKind, string(f.Kind))
	add(fieldRule, strings.ToLower(strings.TrimSpace(f.Rule)))
	add(fieldSender, strings.ToLower(strings.TrimSpace(f.Sender)))
	add(fieldDomain, strings.ToLower(strings.TrimSpace(f.RecipientDomain)))
	if len(p) == 0 {
		p = append(p, postingPrefix(fieldAll, ""))
	}
	return p
}

// join intersects posting lists whose keys are prefix ‖ suffix, suffix =
// time(8) ‖ id, walking suffixes in ascending or descending order within
// [lo, hi).
type join struct {
	lists  []posting
	desc   bool
	lo, hi []byte // suffix bounds, nil = open
}

type posting struct {
	c      *bbolt.Cursor
	prefix []byte
}

func newJoin(b *bbolt.Bucket, prefixes [][]byte, desc bool, from, to time.Time) *join {
	j := &join{desc: desc}
	for _, p := range prefixes {
		j.lists = append(j.lists, posting{c: b.Cursor(), prefix: p})
	}
	if !from.IsZero() {
		j.lo = timeKey(from)
	}
	if !to.IsZero() {
		j.hi = timeKey(to)
	}
	return j
}

// first returns the first common suffix at or beyond start in walking
// order (strictly beyond when !inclusive); a nil start means the range's
// beginning.
func (j *join) first(start []byte, inclusive bool) []byte {
	if start == nil {
		inclusive = true
		if j.desc {
			start = j.hi // exclusive upper bound
			inclusive = false
		} else {
			start = j.lo
		}
	}
	return j.leapfrog(start, inclusive)
}

// next returns the common suffix after k in walking order.
func (j *join) next(k []byte) []byte { return j.leapfrog(k, false) }

// leapfrog moves every list to the first suffix at or beyond cand until all
// agree. Each move skips everything the other lists cannot match.
func (j *join) leapfrog(cand []byte, inclusive bool) []byte {
	cand = j.step(0, cand, inclusive)
	agreed, i := 1, 1%len(j.lists)
	for cand != nil && agreed < len(j.lists) {
		k := j.step(i, cand, true)
		if k == nil {
			return nil
		}
		if bytes.Equal(k, cand) {
			agreed++
		} else {
			cand, agreed = k, 1
		}
		i = (i + 1) % len(j.lists)
	}
	return cand
}

// step returns list i's first suffix at or beyond t in walking order
// (strictly beyond unless inclusive), within the bounds; t nil means the
// start of the list.
func (j *join) step(i int, t []byte, inclusive bool) []byte {
	var s []byte
	if j.desc {
		s = j.lists[i].atOrBelow(t, inclusive)
	} else {
		s = j.lists[i].atOrAbove(t, inclusive)
	}
	if s == nil || (j.lo != nil && bytes.Compare(s, j.lo) < 0) || (j.hi != nil && bytes.Compare(s, j.hi) >= 0) {
		return nil
	}
	return s
}

// atOrAbove returns the smallest suffix >= t (> t unless inclusive).
func (p *posting) atOrAbove(t []byte, inclusive bool) []byte {
	k, _ := p.c.Seek(concat(p.prefix, t))
	if k != nil && !inclusive && bytes.Equal(k[len(p.prefix):], t) && bytes.HasPrefix(k, p.prefix) {
		k, _ = p.c.Next()
	}
	if k == nil || !bytes.HasPrefix(k, p.prefix) {
		return nil
	}
	return k[len(p.prefix):]
}

// atOrBelow returns the largest suffix <= t (< t unless inclusive); t nil
// means the end of the list.
func (p *posting) atOrBelow(t []byte, inclusive bool) []byte {
	var k []byte
	if t == nil {
		k = p.lastInPrefix()
	} else {
		k, _ = p.c.Seek(concat(p.prefix, t))
		switch {
		case k == nil:
			k, _ = p.c.Last()
		case inclusive && bytes.HasPrefix(k, p.prefix) && bytes.Equal(k[len(p.prefix):], t):
		default:
			k, _ = p.c.Prev()
		}
	}
	if k == nil || !bytes.HasPrefix(k, p.prefix) {
		return nil
	}
	return k[len(p.prefix):]
}

// lastInPrefix positions the cursor on the last key under the prefix.
func (p *posting) lastInPrefix() []byte {
	end := prefixEnd(p.prefix)
	var k []byte
	if end == nil {
		k, _ = p.c.Last()
	} else if k, _ = p.c.Seek(end); k == nil {
		k, _ = p.c.Last()
	} else {
		k, _ = p.c.Prev()
	}
	return k
}

// prefixEnd is the smallest key greater than every key with the prefix,
// nil if there is none.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
