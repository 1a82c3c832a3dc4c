package inspect

import "sync"

// A large part's text is scanned on a goroutine of its own while the walk
// decodes the next bytes (base64, the charset, the archive): for a Shift_JIS
// CSV of a few MB the decoding is about a fifth of the analysis and the
// detectors the rest, one after the other on one goroutine before. The
// detectors see exactly the writes they saw before, the same bytes in the
// same order and the same pieces, so the result is the same; a part stays
// on the walk's goroutine until it has written asyncFrom bytes, where a
// goroutine and a copy of each write cost more than they save.

// asyncFrom is how many bytes of a part's text are scanned inline before
// the rest goes to a goroutine (a variable for the tests).
var asyncFrom int64 = 1 << 20

// asyncQueue is how many writes may wait for the scanning goroutine: the
// memory a part can hold beyond what the detectors keep.
const asyncQueue = 2

// asyncWriter hands writes to a goroutine that passes them to write in
// order, once the writes have reached asyncFrom bytes.
type asyncWriter struct {
	write func(p []byte)
	n     int64
	queue chan []byte
	done  chan struct{}
	panic any  // the goroutine's, raised again by finish
	ended bool // finish was called
}

func (a *asyncWriter) Write(p []byte) {
	if a.queue == nil {
		if a.n += int64(len(p)); a.n < asyncFrom || a.ended {
			a.write(p)
			return
		}
		a.queue, a.done = make(chan []byte, asyncQueue), make(chan struct{})
		go a.run()
	}
	a.queue <- copyOut(p)
}

func (a *asyncWriter) run() {
	defer close(a.done)
	defer func() {
		if p := recover(); p != nil {
			a.panic = p
			for b := range a.queue { // the walk must not block on a full queue
				putCopy(b)
			}
		}
	}()
	for b := range a.queue {
		a.write(b)
		putCopy(b)
	}
}

// finish waits until every write has been passed on. A panic of the
// scanning goroutine is raised here, on the walk's, where the analysis's
// callers recover it as they did when the scan ran inline.
func (a *asyncWriter) finish() {
	if p := a.stop(); p != nil {
		panic(p)
	}
}

// stop is finish returning the goroutine's panic instead of raising it.
func (a *asyncWriter) stop() any {
	if a.ended {
		return nil
	}
	a.ended = true
	if a.queue == nil {
		return nil
	}
	close(a.queue)
	<-a.done
	a.queue = nil
	p := a.panic
	a.panic = nil
	return p
}

// copies holds the writes' copies: the walk reuses what it writes from.
var copies = sync.Pool{New: func() any { return new([]byte) }}

// maxCopy is the largest copy kept for reuse.
const maxCopy = 1 << 20

func copyOut(p []byte) []byte {
	b := copies.Get().(*[]byte)
	if cap(*b) < len(p) {
		*b = make([]byte, 0, max(len(p), 64<<10))
	}
	return append((*b)[:0], p...)
}

func putCopy(b []byte) {
	if cap(b) <= maxCopy {
		copies.Put(&b)
	}
}
