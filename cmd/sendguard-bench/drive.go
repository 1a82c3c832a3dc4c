package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

const benchIDDomain = "bench.sendguard.test"

// msgID names one send of a corpus item in one phase.
func msgID(phase string, idx int) string {
	return fmt.Sprintf("%s.%05d@%s", phase, idx, benchIDDomain)
}

// sendResult is what driving one phase measured on the client side.
type sendResult struct {
	accepted  int
	rejected  int // 5xx on purpose (none expected from the default policy)
	failed    []string
	latencies []time.Duration // end of DATA to the final reply, accepted messages
	byKind    map[string][]time.Duration
	bySize    [numSizeBuckets][]time.Duration
	// With offered arrivals: messages that found every session busy, and
	// the p99 of how late they started (the relay fell behind the load).
	late    int
	lateP99 time.Duration
	start   time.Time
	end     time.Time // last reply
}

// arrivals returns n offsets from the start at which messages are offered
// at a mean of rate per second, with exponential gaps (a Poisson process,
// as independent senders make), or nil for rate 0.
func arrivals(n int, rate float64, seed uint64) []time.Duration {
	if rate <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0xa771))
	out := make([]time.Duration, n)
	var t float64
	for i := range out {
		out[i] = time.Duration(t * float64(time.Second))
		t += rng.ExpFloat64() / rate
	}
	return out
}

// drive sends items over sessions parallel SMTP sessions, each reusing its
// connection (RSET between messages) as an MTA does. With at (offsets from
// the start, one per item) an item is offered at its time and taken by the
// next free session; without, as soon as a session is free. It returns
// when every item got a final reply or ctx ends.
func drive(ctx context.Context, addr, phase string, items []item, sessions int, at []time.Duration, link float64) *sendResult {
	res := &sendResult{start: time.Now(), byKind: map[string][]time.Duration{}}
	work := make(chan item)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(sessions, max(len(items), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *smtp.Client
			defer func() {
				if c != nil {
					c.Quit()
					c.Close()
				}
			}()
			for it := range work {
				var lat time.Duration
				var err error
				for attempt := 0; attempt < 2; attempt++ {
					if c == nil {
						if c, err = dial(addr); err != nil {
							continue
						}
					}
					lat, err = sendOne(c, it, msgID(phase, it.idx), link)
					var se *smtp.SMTPError
					if err == nil || errors.As(err, &se) {
						break
					}
					// connection-level failure: reconnect once
					c.Close()
					c = nil
				}
				mu.Lock()
				var se *smtp.SMTPError
				switch {
				case err == nil:
					res.accepted++
					res.latencies = append(res.latencies, lat)
					k := it.class.String() + " " + it.kind
					res.byKind[k] = append(res.byKind[k], lat)
					b := sizeBucket(it.size)
					res.bySize[b] = append(res.bySize[b], lat)
				case errors.As(err, &se) && se.Code >= 500:
					res.rejected++
					res.failed = append(res.failed, fmt.Sprintf("%s: %v", msgID(phase, it.idx), err))
				default:
					res.failed = append(res.failed, fmt.Sprintf("%s: %v", msgID(phase, it.idx), err))
				}
				res.end = time.Now()
				mu.Unlock()
				if err != nil && c != nil {
					if c.Reset() != nil {
						c.Close()
						c = nil
					}
				}
			}
		}()
	}
	var lateness []time.Duration
feed:
	for i, it := range items {
		var due time.Time
		if at != nil {
			due = res.start.Add(at[i])
			select {
			case <-time.After(time.Until(due)):
			case <-ctx.Done():
				break feed
			}
			select {
			case work <- it:
				continue
			default: // every session busy: the message waits, as in an MTA's queue
			}
		}
		select {
		case work <- it:
			if at != nil {
				lateness = append(lateness, time.Since(due))
			}
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	res.late, res.lateP99 = len(lateness), quantile(lateness, 0.99)
	return res
}

// sizeBuckets bound the message sizes the report gives latency for: a
// message's fsync and scan grow with its size, so the tail of a mixed
// corpus is mostly its largest messages.
var sizeBuckets = [numSizeBuckets]struct {
	name string
	max  int64 // inclusive upper bound
}{
	{"up to 64 KB", 64 << 10},
	{"64 KB to 1 MB", 1 << 20},
	{"1 to 4 MB", 4 << 20},
	{"over 4 MB", 1<<63 - 1},
}

const numSizeBuckets = 4

func sizeBucket(size int64) int {
	for i, b := range sizeBuckets {
		if size <= b.max {
			return i
		}
	}
	return len(sizeBuckets) - 1
}

func dial(addr string) (*smtp.Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = time.Minute
	c.SubmissionTimeout = 5 * time.Minute
	if err := c.Hello("client.bench.test"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// sendOne runs one transaction and times the end of DATA: from the moment
// the terminating dot is written to the server's final reply. With link >
// 0 the message's bytes go out at link bytes a second, as from a sending
// MTA on a real network.
func sendOne(c *smtp.Client, it item, id string, link float64) (time.Duration, error) {
	if err := c.Mail(it.from, nil); err != nil {
		return 0, err
	}
	for _, r := range it.rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return 0, err
		}
	}
	w, err := c.Data()
	if err != nil {
		return 0, err
	}
	body, err := openItem(it, id)
	if err != nil {
		w.Close()
		return 0, err
	}
	if link > 0 {
		_, err = io.Copy(&pacedWriter{w: w, rate: link, start: time.Now()}, body)
	} else {
		_, err = io.Copy(w, body)
	}
	body.Close()
	if err != nil {
		w.Close()
		return 0, err
	}
	t0 := time.Now()
	err = w.Close()
	return time.Since(t0), err
}

// pacedWriter writes at rate bytes a second from start, 64 KiB at a time.
type pacedWriter struct {
	w     io.Writer
	rate  float64
	start time.Time
	n     int64
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	var done int
	for len(b) > 0 {
		k := min(len(b), 64<<10)
		n, err := p.w.Write(b[:k])
		done += n
		p.n += int64(n)
		if err != nil {
			return done, err
		}
		b = b[k:]
		time.Sleep(time.Until(p.start.Add(time.Duration(float64(p.n) / p.rate * float64(time.Second)))))
	}
	return done, nil
}

// quantile of sorted durations (nearest rank).
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
