package extract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/sendguard/sendguard/rules"
)

// spilled is a file's bytes made randomly accessible: in memory up to
// Limits.MaxMemory, else in a temporary file removed by close.
type spilled struct {
	io.ReaderAt
	size  int64
	close func()
}

// spill reads r for a format that needs random access. It returns a
// limitError when r is larger than Limits.MaxAttachment.
//
// Bytes held in memory are reserved from a budget shared by every walk in
// the process (Limits.MaxMemoryTotal) as the buffer grows: once it is
// spent, or past this attachment's MaxMemory, what was read so far and the
// rest go to a temporary file. So fifty sessions carrying 20 MB Office
// files hold at most the budget in memory, not fifty times 16 MiB.
func (w *walker) spill(r io.Reader) (*spilled, error) {
	bp := spillPool.Get().(*[]byte)
	buf := (*bp)[:0]
	reserved := int64(0)
	release := func() {
		spillMem.Add(-reserved)
		reserved = 0
		if cap(buf) <= maxPooledSpill {
			*bp = buf[:0]
			spillPool.Put(bp)
		}
	}
	limit := w.lim.MaxMemory + 1 // one more byte tells "larger than MaxMemory"
	if c := int64(cap(buf)); c > 0 {
		// A pooled buffer's room counts from the start.
		if c > limit || !reserveSpill(c, w.lim.MaxMemoryTotal) {
			buf = nil
		} else {
			reserved = c
		}
	}
	inMemory := false
	for {
		if len(buf) == cap(buf) {
			want := min(max(2*int64(cap(buf)), 64<<10), limit)
			if want <= int64(cap(buf)) || !reserveSpill(want-reserved, w.lim.MaxMemoryTotal) {
				break // to a file
			}
			reserved = want
			if want > int64(cap(buf)) {
				buf = append(make([]byte, 0, want), buf...)
			}
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			inMemory = int64(len(buf)) < limit
			break
		}
		if err != nil {
			release()
			return nil, err
		}
	}
	if inMemory {
		// nothing read from the buffer outlives close: readers copy out
		return &spilled{ReaderAt: bytes.NewReader(buf), size: int64(len(buf)), close: release}, nil
	}
	defer release()
	f, err := os.CreateTemp(w.lim.TempDir, "sendguard-extract-*")
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	done := func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	n := int64(len(buf))
	if _, err := f.Write(buf); err != nil {
		done()
		return nil, fmt.Errorf("write spill file: %w", err)
	}
	m, err := io.Copy(f, io.LimitReader(r, w.lim.MaxAttachment-n+1))
	if err != nil {
		done()
		return nil, err
	}
	if n+m > w.lim.MaxAttachment {
		done()
		return nil, &limitError{fmt.Sprintf("larger than %d bytes", w.lim.MaxAttachment)}
	}
	return &spilled{ReaderAt: f, size: n + m, close: done}, nil
}

// spillMem is the bytes of attachments all walks hold in memory for
// random access (reserved as their buffers grow).
var spillMem atomic.Int64

// reserveSpill takes n more bytes from the shared budget of total, or
// reports false (and takes nothing) when that would exceed it.
func reserveSpill(n, total int64) bool {
	for {
		cur := spillMem.Load()
		if cur+n > total {
			return false
		}
		if spillMem.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// spillPool keeps small in-memory buffers of spill between attachments, so
// a steady flow of Office files does not allocate (and collect) each one's
// size again; a buffer grown past maxPooledSpill is left to the collector,
// as the pool's idle buffers are outside the shared budget.
var spillPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledSpill = 1 << 20

// randomAccess buffers a zip, OOXML, PDF or OLE file and reads it.
func (w *walker) randomAccess(att *rules.Attachment, r io.Reader, k kind) (result, error) {
	sp, err := w.spill(r)
	if err != nil {
		var le *limitError
		if errors.As(err, &le) {
			return result{unscannable: le.reason}, nil
		}
		return unscannablef("read: %s", shortErr(err)), nil
	}
	defer sp.close()
	switch k {
	case kindZip:
		return w.zipFile(att, sp)
	case kindPDF:
		res := w.pdfFile(att, sp)
		res.properties = pdfProperties(sp) // pdfmeta.go: the bytes, not the extractor
		return res, nil
	default:
		return w.oleFile(att, sp), nil
	}
}
