package extract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

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
func (w *walker) spill(r io.Reader) (*spilled, error) {
	mem := spillPool.Get().(*bytes.Buffer)
	mem.Reset()
	release := func() {
		if mem.Cap() <= maxPooledSpill {
			spillPool.Put(mem)
		}
	}
	n, err := io.Copy(mem, io.LimitReader(r, w.lim.MaxMemory+1))
	if err != nil {
		release()
		return nil, err
	}
	if n <= w.lim.MaxMemory {
		// nothing read from the buffer outlives close: readers copy out
		return &spilled{ReaderAt: bytes.NewReader(mem.Bytes()), size: n, close: release}, nil
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
	if _, err := f.Write(mem.Bytes()); err != nil {
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

// spillPool keeps the in-memory buffers of spill between attachments, so a
// steady flow of Office files does not allocate (and collect) each one's
// size again; a buffer grown past maxPooledSpill is left to the collector.
var spillPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledSpill = 32 << 20

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
