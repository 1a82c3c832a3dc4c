package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sendguard/sendguard/rules/address"
)

// maxParallelDests bounds the destinations one Deliver call works on at once.
const maxParallelDests = 4

// peekMaxIdle is how long a pooled session with no open transaction may
// have been idle and still be reused after a look at its socket instead of
// an RSET round trip (Postfix keeps idle sessions 2s by default,
// smtp_connection_cache_time_limit).
const peekMaxIdle = 2 * time.Second

// Client delivers messages to the next hop. It is safe for concurrent use.
type Client struct {
	cfg  Config
	hop  nextHop
	log  *slog.Logger
	pool *pool
	// peekIdle is peekMaxIdle; tests shorten it to see RSET.
	peekIdle time.Duration
}

// New validates cfg (reporting every problem at once) and returns a Client.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	c := cfg.withDefaults()
	hop, err := c.validate()
	if err != nil {
		return nil, fmt.Errorf("outbound config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: c, hop: hop, log: log.With("component", "outbound"), pool: newPool(),
		peekIdle: peekMaxIdle}, nil
}

// Close sends QUIT on every idle connection and closes it. Deliveries in
// progress finish; their connections are closed instead of pooled, and
// later Deliver calls fail temporarily.
func (cl *Client) Close() error {
	var wg sync.WaitGroup
	for _, s := range cl.pool.drain() {
		wg.Go(func() { cl.quit(s) })
	}
	wg.Wait()
	return nil
}

// group is the recipients that share one destination.
type group struct {
	key    string // pool key
	domain string // recipient domain (mx mode), canonical ASCII form
	idx    []int  // indexes into Envelope.Rcpts
	// wire holds every recipient's RCPT TO form, indexed like
	// Envelope.Rcpts (shared by all groups of one Deliver call).
	wire []string
}

// Deliver makes one delivery attempt for every recipient of env and returns
// one result per recipient, in order. Recipients are grouped by
// destination (their domain in mx mode, else the one next hop) with one
// SMTP transaction per destination.
func (cl *Client) Deliver(ctx context.Context, env Envelope, body BodyFunc) []RcptResult {
	results := make([]RcptResult, len(env.Rcpts))
	groups := cl.group(env, results)
	sem := make(chan struct{}, maxParallelDests)
	var wg sync.WaitGroup
	for _, g := range groups {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			defer func() {
				// A bug must not take the gateway down nor lose the
				// message: the recipients are retried later.
				if p := recover(); p != nil {
					cl.log.Error("panic in delivery", "dest", g.key, "panic", p, "stack", string(debug.Stack()))
					for _, i := range g.idx {
						setFailure(&results[i], tempFailure("4.3.0", "internal error"))
					}
				}
			}()
			cl.deliverGroup(ctx, env, g, body, results)
		})
	}
	wg.Wait()
	return results
}

func (cl *Client) group(env Envelope, results []RcptResult) []group {
	var groups []group
	byKey := map[string]int{}
	wire := make([]string, len(env.Rcpts))
	for i, rcpt := range env.Rcpts {
		results[i].Rcpt = rcpt
		// The one parser the analysis used: the domain routed to here is
		// the domain that was inspected.
		a, err := address.Parse(rcpt)
		if err != nil {
			setFailure(&results[i], permFailure(553, "5.1.3", "bad recipient address syntax"))
			continue
		}
		wire[i] = wireForm(a)
		key, domain := "relay:"+cl.cfg.NextHop, ""
		if cl.hop.mx {
			domain = a.ASCIIDomain
			key = "mx:" + domain
		}
		gi, ok := byKey[key]
		if !ok {
			gi = len(groups)
			byKey[key] = gi
			groups = append(groups, group{key: key, domain: domain, wire: wire})
		}
		groups[gi].idx = append(groups[gi].idx, i)
	}
	// RFC 5321 §4.5.3.1.8: a server must take 100 recipients per
	// transaction, not more; larger groups go in several transactions.
	var out []group
	for _, g := range groups {
		for len(g.idx) > cl.cfg.MaxRcptsPerTxn {
			out = append(out, group{key: g.key, domain: g.domain, wire: g.wire, idx: g.idx[:cl.cfg.MaxRcptsPerTxn:cl.cfg.MaxRcptsPerTxn]})
			g.idx = g.idx[cl.cfg.MaxRcptsPerTxn:]
		}
		out = append(out, g)
	}
	return out
}

// wireForm is the address as sent in MAIL FROM or RCPT TO: the parser's
// wire form (a quoted local part stays quoted), with an internationalised
// domain in its A-label form when the local part is ASCII, so that the
// address needs no SMTPUTF8 (RFC 6531 §3.2; it names the same domain).
func wireForm(a address.Address) string {
	if !a.ASCII() && isASCII(a.Local) {
		return address.QuoteLocal(a.Local) + "@" + a.ASCIIDomain
	}
	return a.String()
}

func (cl *Client) deliverGroup(ctx context.Context, env Envelope, g group, body BodyFunc, results []RcptResult) {
	start := time.Now()
	failAll := func(f *failure) {
		for _, i := range g.idx {
			setFailure(&results[i], f)
		}
		cl.log.Warn("delivery attempt failed", "dest", g.key, "remote", f.host, "rcpts", len(g.idx),
			"code", f.code, "status", f.enhanced, "temporary", f.temp, "took", time.Since(start))
	}
	d, ok := cl.pool.get(g.key, cl.cfg.MaxConnsPerDest)
	if !ok {
		failAll(tempFailure("4.3.2", "delivery client is shutting down"))
		return
	}
	defer cl.pool.put(d)

	s, reused, f := cl.session(ctx, d, g)
	if f != nil {
		failAll(f)
		return
	}
	finished := false
	defer func() {
		if !finished { // transact or open panicked: give the connection and slot back
			cl.discard(d, s)
		}
	}()
	reusable, retry := cl.transact(ctx, s, env, g, body, results, reused)
	if retry {
		// The pooled session was closed under us before MAIL was taken:
		// nothing was sent, nothing recorded. Its slot goes to a new one.
		cl.log.Debug("pooled session closed at MAIL, retrying on a new connection", "dest", g.key, "remote", s.host)
		s.conn.Close()
		s2, f := cl.open(ctx, g)
		if f != nil {
			finished = true
			cl.pool.release(d)
			failAll(f)
			return
		}
		s, reused = s2, false
		reusable, _ = cl.transact(ctx, s, env, g, body, results, false)
	}
	finished = true
	cl.finish(d, s, reusable)

	var ok2, temp, perm int
	for _, i := range g.idx {
		switch r := results[i]; {
		case r.Delivered:
			ok2++
		case r.Temporary:
			temp++
		default:
			perm++
		}
	}
	cl.log.Info("delivery attempt", "dest", g.key, "remote", s.host, "tls", s.tls, "reused", reused,
		"delivered", ok2, "deferred", temp, "bounced", perm, "took", time.Since(start))
}

// session returns a ready session for d: a pooled one that is alive, or a
// new one through the destination's addresses in order.
func (cl *Client) session(ctx context.Context, d *dest, g group) (*session, bool, *failure) {
	for {
		s, slot, err := d.acquire(ctx)
		if err != nil {
			return nil, false, tempFailure("4.4.7", "no connection before deadline: %v", err)
		}
		if slot {
			s, f := cl.open(ctx, g)
			if f != nil {
				cl.pool.release(d)
				return nil, false, f
			}
			return s, false, nil
		}
		if cl.alive(ctx, s) {
			return s, true, nil
		}
		cl.discard(d, s)
	}
}

// alive checks a pooled session. One with no open transaction that was
// idle briefly is checked by a look at its socket, without a round trip; a
// peer that closes it right after that look is caught at MAIL, which is
// then retried on a new connection (transact). Any other is checked with
// RSET, which also clears the transaction (the session keeps its EHLO).
func (cl *Client) alive(ctx context.Context, s *session) bool {
	idle := time.Since(s.since)
	if idle > cl.cfg.IdleTimeout || s.msgs >= cl.cfg.MaxMsgsPerConn {
		return false
	}
	if s.clean && idle <= cl.peekIdle {
		switch peekConn(s.conn) {
		case peekIdle:
			return true
		case peekGone:
			return false
		}
	}
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	err := s.c.Reset()
	if err == nil {
		s.clean = true
	}
	return stop() && err == nil
}

// open dials the destination's addresses in order until one gives a session.
func (cl *Client) open(ctx context.Context, g group) (*session, *failure) {
	targets, f := cl.resolve(ctx, g.domain)
	if f != nil {
		return nil, f
	}
	var last *failure
	for _, t := range targets {
		s, err := cl.connect(ctx, t)
		if err == nil {
			return s, nil
		}
		last = classify(err)
		cl.log.Info("next hop address failed", "dest", g.key, "remote", t.host, "addr", t.addr,
			"code", last.code, "status", last.enhanced)
		if ctx.Err() != nil {
			break
		}
	}
	if last == nil {
		return nil, tempFailure("4.4.1", "no address to try")
	}
	// A peer refusing the session (5xx greeting or HELO) is not a verdict
	// on the recipients, and a broken smarthost must not bounce all mail:
	// setup failures always defer, as with Postfix's smtp_skip_5xx_greeting.
	if !last.temp {
		f := *last
		f.temp, f.fromPeer = true, false
		f.msg = fmt.Sprintf("%s refused the session: %d %s %s", f.host, f.code, f.enhanced, f.msg)
		f.code, f.enhanced = 451, "4"+f.enhanced[1:]
		last = &f
	}
	return nil, last
}

// finish pools a reusable session or closes it.
func (cl *Client) finish(d *dest, s *session, reusable bool) {
	if reusable && cl.cfg.IdleTimeout > 0 && s.msgs < cl.cfg.MaxMsgsPerConn &&
		cl.pool.park(d, s, cl.cfg.IdleTimeout, cl.quit) {
		return
	}
	if reusable {
		cl.quit(s)
	} else {
		s.conn.Close()
	}
	cl.pool.release(d)
}

func (cl *Client) discard(d *dest, s *session) {
	s.conn.Close()
	cl.pool.release(d)
}

// quit ends a healthy session politely, waiting briefly for the reply.
func (cl *Client) quit(s *session) {
	s.c.CommandTimeout = min(cl.cfg.CommandTimeout, 5*time.Second)
	if err := s.c.Quit(); err != nil {
		s.conn.Close()
	}
}

func setFailure(r *RcptResult, f *failure) {
	r.Code, r.Enhanced, r.Message = f.code, f.enhanced, f.msg
	r.Temporary, r.Delivered, r.FromPeer = f.temp, false, f.fromPeer
	r.RemoteHost = f.host
}
