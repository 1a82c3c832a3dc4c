package extract

import (
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
// the process (Limits.MaxMemoryTotal) as they arrive, a chunk at a time:
// once it is spent, or past this attachment's MaxMemory, what was read so
// far and the rest go to a temporary file. So fifty sessions carrying 20 MB
// Office files hold at most the budget in memory, not fifty times 16 MiB.
// The memory is fixed-size pooled chunks, not one growing buffer: a large
// attachment is neither copied as it grows nor allocated (and cleared)
// anew for each file.
func (w *walker) spill(r io.Reader) (*spilled, error) { return w.spillHashed(r, nil, 0) }

// spillHashed is spill for a file whose hash was paused after from bytes
// (stdHash.pause): going to a file, it hashes what it holds so far and
// resumes the hash for the rest. In memory, the caller hashes the chunks
// (stdHash.hashSpilled).
func (w *walker) spillHashed(r io.Reader, std *stdHash, from int64) (*spilled, error) {
	c := &chunks{}
	limit := w.lim.MaxMemory + 1 // one more byte tells "larger than MaxMemory"
	inMemory := false
	for {
		if c.size == c.room {
			want := min(int64(spillChunk), limit-c.room)
			if want <= 0 || !reserveSpill(want, w.lim.MaxMemoryTotal) {
				break // to a file
			}
			c.grow(want)
		}
		last := c.bufs[len(c.bufs)-1]
		at := int(c.size - (c.room - int64(len(last))))
		n, err := r.Read(last[at:])
		c.size += int64(n)
		if err == io.EOF {
			inMemory = c.size < limit
			break
		}
		if err != nil {
			c.release()
			return nil, err
		}
	}
	if inMemory {
		// nothing read from the chunks outlives close: readers copy out
		return &spilled{ReaderAt: c, size: c.size, close: c.release}, nil
	}
	std.catchUp(c, from)
	defer c.release()
	f, err := os.CreateTemp(w.lim.TempDir, "sendguard-extract-*")
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	done := func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	n := c.size
	for i, b := range c.bufs {
		if i == len(c.bufs)-1 {
			b = b[:n-int64(i)*spillChunk]
		}
		if _, err := f.Write(b); err != nil {
			done()
			return nil, fmt.Errorf("write spill file: %w", err)
		}
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

// reader reads the file from its start. From memory it writes itself in
// its own chunks (WriteTo): a worker's stdin pipe gets them as they are.
func (sp *spilled) reader() io.Reader {
	if c, ok := sp.ReaderAt.(*chunks); ok {
		return &chunkReader{c: c}
	}
	return io.NewSectionReader(sp, 0, sp.size)
}

// chunkReader reads chunks from off on.
type chunkReader struct {
	c   *chunks
	off int64
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.off >= r.c.size {
		return 0, io.EOF
	}
	n, err := r.c.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.off < r.c.size {
		b := r.c.bufs[r.off/spillChunk]
		i := int(r.off % spillChunk)
		end := min(len(b), i+int(r.c.size-r.off))
		n, err := w.Write(b[i:end])
		r.off += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// spillChunk is the size of the pooled chunks spill holds attachments in.
const spillChunk = 256 << 10

var spillChunks = sync.Pool{New: func() any { return new([spillChunk]byte) }}

// chunks is an attachment held in pooled chunks, each full but the last;
// room is their usable length, reserved from the shared budget.
type chunks struct {
	bufs [][]byte
	size int64
	room int64
}

// grow adds a chunk of n usable bytes (n <= spillChunk, already reserved).
func (c *chunks) grow(n int64) {
	c.bufs = append(c.bufs, spillChunks.Get().(*[spillChunk]byte)[:n])
	c.room += n
}

// release returns the chunks to the pool and their room to the budget.
func (c *chunks) release() {
	for _, b := range c.bufs {
		spillChunks.Put((*[spillChunk]byte)(b[:spillChunk]))
	}
	spillMem.Add(-c.room)
	c.bufs, c.size, c.room = nil, 0, 0
}

// ReadAt implements io.ReaderAt over the bytes read so far.
func (c *chunks) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("spill: negative offset")
	}
	n := 0
	for n < len(p) && off < c.size {
		b := c.bufs[off/spillChunk]
		i := int(off % spillChunk)
		end := min(len(b), i+int(c.size-off))
		k := copy(p[n:], b[i:end])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
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

// randomAccess buffers a zip, OOXML, PDF or OLE file and reads it.
// A file of the sent record (std) is hashed from the copy in memory while
// it is parsed, not as it is read.
func (w *walker) randomAccess(att *rules.Attachment, r io.Reader, k kind, std *stdHash) (result, error) {
	from := std.pause()
	defer std.resume() // whatever happened, reading hashes again
	sp, err := w.spillHashed(r, std, from)
	if err != nil {
		var le *limitError
		if errors.As(err, &le) {
			return result{unscannable: le.reason}, nil
		}
		return unscannablef("read: %s", shortErr(err)), nil
	}
	hashed := func() {}
	if c, ok := sp.ReaderAt.(*chunks); ok {
		hashed = std.hashSpilled(c, from)
	}
	defer func() {
		hashed()
		sp.close()
	}()
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
