package hold

import (
	"context"
	"encoding/binary"
	"time"

	"go.etcd.io/bbolt"
)

// EventFilter selects audit events; zero fields match everything.
type EventFilter struct {
	MessageID string
	Actor     string // actor name
	Role      string // actor role
	Action    string
	From, To  time.Time // From inclusive, To exclusive
}

func (f *EventFilter) match(e *Event) bool {
	return (f.MessageID == "" || e.MessageID == f.MessageID) &&
		(f.Actor == "" || e.Actor.Name == f.Actor) &&
		(f.Role == "" || e.Actor.Role == f.Role) &&
		(f.Action == "" || e.Action == f.Action)
}

// EventPage is one page of an audit listing in sequence order.
type EventPage struct {
	// After is the cursor: the Next of the previous page, 0 for the first.
	After uint64
	Limit int  // 1..1000, default 100
	Desc  bool // newest first
}

// maxEventScan bounds the events one EventsRange call reads, so a rare
// filter costs bounded time per page; Next continues the scan.
const maxEventScan = 50_000

// EventsRange lists events matching f, one page at a time. Next is the
// cursor for the following page and 0 when the range is exhausted; a page
// may hold fewer than Limit events and still have a Next.
func (s *Store) EventsRange(ctx context.Context, f EventFilter, p EventPage) (events []Event, next uint64, err error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	err = s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		last := readHead(tx).seq
		// Times never decrease along the chain, so a time range is a run
		// of sequence numbers found by binary search.
		lo, hi := uint64(1), last // inclusive
		if !f.From.IsZero() {
			lo = max(lo, firstAtOrAfter(b, f.From, last))
		}
		if !f.To.IsZero() {
			hi = min(hi, firstAtOrAfter(b, f.To, last)-1)
		}
		if p.After != 0 {
			if p.Desc {
				hi = min(hi, p.After-1)
			} else {
				lo = max(lo, p.After+1)
			}
		}
		if lo > hi || hi == 0 {
			return nil
		}
		seq, step := lo, uint64(1)
		if p.Desc {
			seq, step = hi, ^uint64(0) // -1
		}
		for scanned := 0; seq >= lo && seq <= hi; seq += step {
			if scanned == maxEventScan {
				next = seq - step
				return nil
			}
			scanned++
			v := b.Get(u64(seq))
			if v == nil {
				continue
			}
			e, err := decodeEvent(v)
			if err != nil {
				return err
			}
			if !f.match(&e) {
				continue
			}
			events = append(events, e)
			if len(events) == limit {
				if (p.Desc && seq > lo) || (!p.Desc && seq < hi) {
					next = seq
				}
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return events, next, nil
}

// firstAtOrAfter returns the smallest seq in 1..last whose event time is
// not before t, or last+1.
func firstAtOrAfter(b *bbolt.Bucket, t time.Time, last uint64) uint64 {
	lo, hi := uint64(1), last+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if eventTime(b, mid).Before(t) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// eventTime reads an event's time without decoding all of it; a missing or
// broken event counts as the zero time (Verify reports it).
func eventTime(b *bbolt.Bucket, seq uint64) time.Time {
	v := b.Get(binary.BigEndian.AppendUint64(nil, seq))
	if v == nil {
		return time.Time{}
	}
	e, err := decodeEvent(v)
	if err != nil {
		return time.Time{}
	}
	return e.Time
}
