package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/internal/bufpool"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// Inspector analyses a spooled message and decides what happens to it. It
// must not fail on message content (an unreadable part is a finding); an
// error means sendguard itself could not work, and the client is asked to
// retry.
type Inspector interface {
	// Inspect decides and prepares the plan: the verdict says what
	// acceptance does and carries what was prepared for it.
	Inspect(ctx context.Context, in *disposition.Inbound) (*disposition.Verdict, error)
	// Discard undoes what Inspect prepared when the message is not
	// accepted after all.
	Discard(v *disposition.Verdict)
}

// Acceptor commits an accepted message with everything its verdict
// prepared, all or nothing, fsynced before it returns (*queue.Queue is
// one).
type Acceptor interface {
	Accept(ctx context.Context, a queue.Acceptance) error
}

// inspectTimeout bounds one message's analysis.
const inspectTimeout = 2 * time.Minute

// Options are the stage's dependencies and settings.
type Options struct {
	Store     *spool.Store
	Queue     Acceptor  // commits accepted messages
	Inspector Inspector // nil: deliver everything as is
	Metrics   *gateway.Metrics
	// OnQueued is told of each committed message (it wakes the delivery
	// runner); nil for none.
	OnQueued func(id string)
	// Hostname names sendguard in the Received field.
	Hostname string
	// NormalizeBareLF rewrites a bare LF or CR to CRLF instead of
	// refusing the message (smtp.bare_lf: normalize).
	NormalizeBareLF bool
	// MaxLineLength is the longest line accepted, CRLF included; 0 for
	// no limit (smtp.max_line_length).
	MaxLineLength int
	// QueueLifetime is how long a message may wait for delivery
	// (delivery.queue_lifetime).
	QueueLifetime time.Duration
}

// Stage runs message transactions. It is safe for concurrent use; each
// transaction belongs to one goroutine.
type Stage struct {
	o    Options
	insp atomic.Pointer[inspectorRef] // swapped by a reload
}

// inspectorRef boxes an Inspector for atomic.Pointer.
type inspectorRef struct{ Inspector }

// New builds the stage.
func New(o Options) (*Stage, error) {
	if o.Store == nil {
		return nil, errors.New("intake: no spool")
	}
	if o.Queue == nil {
		return nil, errors.New("intake: no queue to accept into")
	}
	if o.Metrics == nil {
		o.Metrics = gateway.NewMetrics(prometheus.NewRegistry(), nil)
	}
	if o.OnQueued == nil {
		o.OnQueued = func(string) {}
	}
	s := &Stage{o: o}
	s.SetInspector(o.Inspector)
	return s, nil
}

// SetInspector makes in the inspector of every message whose body starts
// from now on; messages being inspected finish with the one they started
// with. The hot path pays one atomic load per message, never a lock.
func (s *Stage) SetInspector(in Inspector) {
	if in == nil {
		s.insp.Store(nil)
		return
	}
	s.insp.Store(&inspectorRef{in})
}

// currentInspector is the inspector for a message starting now, nil for
// none (everything delivered as is).
func (s *Stage) currentInspector() Inspector {
	if r := s.insp.Load(); r != nil {
		return r.Inspector
	}
	return nil
}

// Client is what the stage records of the sending client.
type Client struct {
	IP   netip.Addr
	Helo string
	TLS  bool
	User string // authenticated user, "" if none
}

// Tx is one message's transaction.
type Tx struct {
	s     *Stage
	env   gateway.Envelope
	start time.Time

	// Set by a Body that succeeded, until Commit or Abort.
	rec         *spool.Record
	insp        Inspector
	verdict     *disposition.Verdict
	facts       gateway.MessageFacts
	spooled     bool // the body file exists
	done        bool
	inspectTime time.Duration
	// early is the analysis begun as the body arrived, until Inspect
	// takes it over.
	early *disposition.Early
}

// Start begins a transaction for the envelope (its recipients, if any,
// are added to AddRcpt's) under a new queue ID.
func (s *Stage) Start(env gateway.Envelope) *Tx {
	env.QueueID = spool.NewID()
	env.Rcpts = append([]spool.Rcpt(nil), env.Rcpts...)
	return &Tx{s: s, env: env}
}

// ID is the transaction's queue ID.
func (t *Tx) ID() string { return t.env.QueueID }

// AddRcpt adds a recipient.
func (t *Tx) AddRcpt(r spool.Rcpt) { t.env.Rcpts = append(t.env.Rcpts, r) }

// Body spools the message read from r, with a Received field for c, and
// inspects it. It returns nil when the message awaits Commit, or the
// final outcome (Rejected, DataRefused, TempFailed) when it is refused or
// could not be taken; then nothing is kept. A reader error is reported,
// not interpreted: DataRefused with DataUnreadable and the error.
func (t *Tx) Body(c Client, r io.Reader) *Outcome {
	if t.done || t.spooled {
		return t.fail("receive message", errors.New("transaction already has a body"))
	}
	t.start = time.Now()
	qid := t.ID()
	store := t.s.o.Store
	bw, err := store.CreateMessage(qid)
	if err != nil {
		return t.fail("create spool file", err)
	}
	io.WriteString(bw, receivedHeader(t.s.o.Hostname, c, &t.env, t.start))
	// One unit per message: a reload during the analysis changes the next
	// message, not this one.
	t.insp = t.s.currentInspector()
	// What the analysis knows before the body; Size and Early are set at
	// its end.
	in := &disposition.Inbound{Env: &t.env, Store: store, Client: c.IP.String(), Auth: c.User, Arrival: t.start}
	dst := io.Writer(bw)
	if ei, ok := t.insp.(EarlyInspector); ok {
		dst = &earlyStart{bw: bw, begin: func(tr *spool.TailReader) { t.early = ei.Begin(in, tr) }}
	}
	chk := newDataChecker(dst, t.s.o.NormalizeBareLF, t.s.o.MaxLineLength)
	src := &sourceReader{r: r}
	_, err = bufpool.Copy(chk, src)
	chk.release()
	if err == nil {
		err = chk.Close()
	}
	if err != nil {
		bw.Abort()
		t.stopEarly()
		t.done = true
		var de *dataError
		switch {
		case errors.As(err, &de):
			return &Outcome{Kind: DataRefused, QueueID: qid, Data: de.kind, LineLimit: de.limit}
		case src.err != nil && errors.Is(err, src.err):
			return &Outcome{Kind: DataRefused, QueueID: qid, Data: DataUnreadable, Err: err}
		}
		return t.fail("receive message", err)
	}
	size := bw.Size()
	// The body's fsync runs while the message is inspected (which reads it
	// from the page cache); nothing below answers the client or commits a
	// record before it has succeeded.
	sum, synced, err := bw.CommitStart()
	if err != nil {
		return t.fail("spool message", err)
	}
	t.spooled = true

	env := &t.env
	t.rec = &spool.Record{
		ID: qid, Kind: spool.KindMail, State: spool.StateQueued, MailFrom: env.MailFrom,
		Rcpts: env.Rcpts, Size: size, SHA256: sum, ReceivedAt: t.start, NextAttempt: t.start,
		Expires: t.start.Add(t.s.o.QueueLifetime), ClientIP: c.IP.String(), Helo: c.Helo,
		AuthUser: c.User, DSNRet: env.DSNRet, DSNEnvID: env.DSNEnvID, UTF8: env.UTF8, EightBit: env.EightBit,
		Inline: bw.Inline(),
	}
	v := &disposition.Verdict{}
	if t.insp != nil {
		in.Size, in.Early = size, t.early
		t.early = nil // Inspect finishes it
		t0 := time.Now()
		v, err = inspect(t.insp, in)
		t.inspectTime = time.Since(t0)
		if err != nil {
			synced()
			return t.fail("inspect message", err)
		}
	}
	if err := synced(); err != nil {
		return t.fail("spool message", err) // removes what the inspection prepared too
	}
	t.verdict = v
	t.facts = gateway.MessageFacts{MessageID: v.MessageID, From: env.MailFrom, Rcpts: len(env.Rcpts), External: v.External,
		Size: size, Rules: v.Rules, Actions: v.Actions, Shadow: shadowNames(v.Shadow), Inspect: t.inspectTime}
	if v.Reject {
		t.abort()
		t.countShadow(v)
		f := t.facts
		f.Status, f.Accept = "rejected", time.Since(t.start)
		return &Outcome{Kind: Rejected, QueueID: qid, Reason: v.RejectReason, Rules: v.Rules, Facts: &f}
	}
	return nil
}

// Commit persists the message Body accepted, with everything its verdict
// prepared, and returns Accepted or Held once that is fsynced; on
// TempFailed nothing is kept.
func (t *Tx) Commit(ctx context.Context) Outcome {
	if t.done || t.verdict == nil {
		return *t.fail("commit message record", errors.New("no inspected body to commit"))
	}
	v := t.verdict
	if err := t.s.o.Queue.Accept(ctx, v.Acceptance(t.rec)); err != nil {
		return *t.fail("commit message record", err)
	}
	t.done = true
	m := t.s.o.Metrics
	m.Received.Inc()
	m.ReceivedSize.Add(float64(t.rec.Size))
	m.AcceptLat.Observe(time.Since(t.start).Seconds())
	if v.Rewrite == nil {
		// A deferred rewrite's actions are counted when its step ends:
		// it may hold the message for review instead.
		for _, a := range v.Actions {
			m.Actions.WithLabelValues(a).Inc()
		}
	}
	t.countShadow(v)
	if v.Learn != nil {
		v.Learn()
	}
	if v.Deferred != nil {
		v.Deferred() // its rewrites, now that the message is ours
	}
	kind := Accepted
	if t.rec.State == spool.StateHeld {
		kind = Held
	}
	f := t.facts
	f.Status, f.Accept = string(t.rec.State), time.Since(t.start)
	if t.rec.State == spool.StateReleased {
		// Queued once its rewrites, deferred past this reply, are done;
		// the step worker logs a hold if they cannot be.
		f.Status = string(spool.StateQueued)
	}
	t.s.o.OnQueued(t.ID()) // notices of a hold are queued too
	return Outcome{Kind: kind, QueueID: t.ID(), Facts: &f}
}

// Abort ends the transaction without a message: the body file and what
// the inspection prepared are removed. It does nothing after Commit or a
// final outcome.
func (t *Tx) Abort() {
	if !t.done {
		t.abort()
	}
}

func (t *Tx) abort() {
	t.done = true
	t.stopEarly()
	if t.spooled {
		t.s.o.Store.RemoveBody(t.ID())
		t.spooled = false
	}
	if t.insp != nil && t.verdict != nil {
		t.insp.Discard(t.verdict)
	}
	t.verdict = nil
}

// stopEarly stops an analysis begun as the body arrived that nothing
// will finish.
func (t *Tx) stopEarly() {
	if t.early != nil {
		t.early.Stop()
		t.early = nil
	}
}

// EarlyInspector is an Inspector that can start a message's analysis
// while its body is still arriving, reading the spool file as it is
// written; Inspect then finishes it (disposition.Inbound.Early). A large
// message's analysis so overlaps its transfer: the client waits after
// the last byte for what is left of it, not for all of it.
type EarlyInspector interface {
	Inspector
	Begin(in *disposition.Inbound, body *spool.TailReader) *disposition.Early
}

// earlyStart writes DATA to the body and, once the body outgrows memory
// for its file (spool.MaxInline), starts the analysis on its tail. A
// smaller message is analysed after its last byte, from memory.
type earlyStart struct {
	bw      *spool.BodyWriter
	begin   func(*spool.TailReader)
	started bool
}

func (e *earlyStart) Write(p []byte) (int, error) {
	n, err := e.bw.Write(p)
	if err == nil && !e.started && e.bw.OnFile() {
		e.started = true
		if tr, terr := e.bw.Tail(); terr == nil {
			e.begin(tr)
		} // else the analysis reads the body after its last byte
	}
	return n, err
}

// fail ends the transaction with a temporary failure.
func (t *Tx) fail(op string, err error) *Outcome {
	t.abort()
	return &Outcome{Kind: TempFailed, QueueID: t.ID(), Op: op, Err: err}
}

// countShadow counts the shadow matches of a message that got its final
// answer (a temporary failure is retried and would count twice).
func (t *Tx) countShadow(v *disposition.Verdict) {
	m := t.s.o.Metrics
	for _, sh := range v.Shadow {
		m.Shadow.WithLabelValues(sh.Rule).Inc()
		if reports.WouldStop(v.Actions, sh.Actions) {
			m.ShadowStops.WithLabelValues(sh.Rule).Inc()
		}
	}
}

// shadowNames lists the matched shadow rules for the log, nil when none.
func shadowNames(ms []policy.Shadow) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule+"="+strings.Join(m.Actions, "+"))
	}
	return out
}

// inspect runs the inspector and turns a panic into an error: a message
// that crashes the analysis must not crash the server.
func inspect(insp Inspector, in *disposition.Inbound) (v *disposition.Verdict, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("inspector panic: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), inspectTimeout)
	defer cancel()
	return insp.Inspect(ctx, in)
}

// sourceReader remembers the reader's own error, to tell it from the
// spool's and the checker's in the copy's.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// receivedHeader is the trace field we add (RFC 5321 §4.4). The "for"
// clause names the recipient only when there is exactly one, so a Bcc
// recipient is never revealed to the others.
func receivedHeader(host string, c Client, env *gateway.Envelope, t time.Time) string {
	proto := "ESMTP"
	if c.TLS {
		proto += "S"
	}
	if c.User != "" {
		proto += "A"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (sendguard) with %s id %s",
		headerSafe(c.Helo), c.IP, headerSafe(host), proto, env.QueueID)
	if len(env.Rcpts) == 1 {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", headerSafe(env.Rcpts[0].Addr))
	}
	fmt.Fprintf(&b, ";\r\n\t%s\r\n", t.Format(time.RFC1123Z))
	return b.String()
}

func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r == 0x7f || r == '(' || r == ')' {
			return '_'
		}
		return r
	}, s)
}
