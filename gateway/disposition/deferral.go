package disposition

import (
	"context"
	"sync"
)

// DeferMinSize is the smallest message whose rewrites a Deferral runs
// after its acceptance. Below it the rewrite is cheaper than the second
// commit deferring costs, and its copy can stay inline in the acceptance's
// own record.
const DeferMinSize = 1 << 20

// Deferral takes the rewrites of large accepted messages (an 8 MB
// attachment zipped, encrypted and fsynced is most of its acceptance)
// off the client's wait: the message is committed released, with its
// rewrites recorded as a spool step (spool.StepRewrite), the client gets
// its 250, and the step runs at once on a goroutine of its own. The
// step queues the rewritten message, or holds it for review when the
// rewrite cannot be done, as acceptance would have. A crash before the
// step commits leaves it recorded, and the step worker runs it after the
// restart.
//
// Slots bound the rewrites running or about to: with every slot taken, a
// message is rewritten before its reply as before, so a burst of large
// mail slows its senders rather than piling up work the gateway owes.
type Deferral struct {
	runner  *StepRunner
	ctx     context.Context
	minSize int64
	slots   chan struct{}
	wg      sync.WaitGroup
}

// NewDeferral runs deferred rewrites with r, at most slots at once (at
// least one), for messages of minSize bytes or more. ctx ends them at
// shutdown: a rewrite cut short runs again from its start after the
// restart.
func NewDeferral(ctx context.Context, r *StepRunner, minSize int64, slots int) *Deferral {
	return &Deferral{runner: r, ctx: ctx, minSize: minSize, slots: make(chan struct{}, max(slots, 1))}
}

// take reserves a slot for a message of size bytes; release gives it
// back (once, however often it is called).
func (d *Deferral) take(size int64) (release func(), ok bool) {
	if d == nil || size < d.minSize {
		return nil, false
	}
	select {
	case d.slots <- struct{}{}:
	default:
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { <-d.slots }) }, true
}

// start runs message id's recorded steps now, then releases the slot.
func (d *Deferral) start(id string, release func()) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer release()
		if err := d.runner.RunNow(d.ctx, id); err != nil && d.ctx.Err() == nil {
			d.runner.Wake() // the worker retries it when due
		}
	}()
}

// Wait waits for the deferred rewrites started so far.
func (d *Deferral) Wait() { d.wg.Wait() }
