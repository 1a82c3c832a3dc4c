package extract

import (
	"hash"
	"hash/fnv"
	"io"
	"slices"
	"sync"

	"github.com/sendguard/sendguard/rules/extract/worker"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
)

// OpenFunc is called by WalkStream when a part's text begins, with the
// part's location and whether it is tabular; it returns the writer that
// receives the text (nil: the caller does not want it). The writer gets
// the text in pieces of about streamChunk bytes, cut anywhere, and
// nothing after the part is yielded.
type OpenFunc func(loc string, tabular bool) io.Writer

// streamChunk is the piece size handed to a sink: the window through
// which a part's text passes when the walk streams.
const streamChunk = 64 << 10

// textBuf collects a part's text up to a cap. Without a sink (Walk) it
// keeps the whole text for Part.Text; with one (WalkStream) it passes the
// text on in pieces of about streamChunk bytes, so memory is one piece
// whatever the size of the part.
type textBuf struct {
	max  int64
	n    int64 // bytes accepted
	full bool
	b    []byte
	last byte // last byte accepted (newline)

	open    OpenFunc // nil: keep the whole text
	loc     string
	tabular bool
	opened  bool
	sink    io.Writer
	err     error       // the sink's first error
	hash    hash.Hash64 // body text: what the tolerant re-read compares
	pooled  *[]byte     // streaming: b's scratch buffer, given back by finish
}

// newTextBuf returns the text collector of the part at loc: streaming when
// the walk has a sink, whole otherwise.
func (w *walker) newTextBuf(loc string, tabular bool) *textBuf {
	t := &textBuf{max: w.lim.MaxPartText, open: w.open, loc: loc, tabular: tabular}
	if w.open != nil && !isAttachmentLoc(loc) {
		t.hash = fnv.New64a()
		_, _ = t.hash.Write([]byte(loc))
		_, _ = t.hash.Write([]byte{0})
	}
	return t
}

func (t *textBuf) streaming() bool { return t.open != nil }

func (t *textBuf) write(p []byte) {
	if t.full || len(p) == 0 {
		return
	}
	if room := t.max - t.n; int64(len(p)) > room {
		p, _ = worker.CapText(p, room)
		t.full = true
		if len(p) == 0 {
			return
		}
	}
	t.n += int64(len(p))
	t.last = p[len(p)-1]
	if t.streaming() && len(t.b) == 0 && len(p) >= streamChunk {
		t.emit(p) // a whole window: no copy
		return
	}
	if t.b == nil && t.streaming() {
		// only a staging window when streaming: pooled
		t.pooled = getScratch()
		t.b = (*t.pooled)[:0]
	}
	t.b = append(t.b, p...)
	if t.streaming() && len(t.b) >= streamChunk {
		t.flush()
	}
}

func (t *textBuf) byte(c byte) {
	if t.full {
		return
	}
	if t.n >= t.max {
		t.full = true
		return
	}
	t.n++
	t.last = c
	if t.b == nil && t.streaming() {
		t.pooled = getScratch()
		t.b = (*t.pooled)[:0]
	}
	t.b = append(t.b, c)
	if t.streaming() && len(t.b) >= streamChunk {
		t.flush()
	}
}

func (t *textBuf) newline() {
	if t.n > 0 && t.last != '\n' {
		t.byte('\n')
	}
}

// len is the number of bytes accepted.
func (t *textBuf) len() int64 { return t.n }

// bytes is the whole text (only without a sink).
func (t *textBuf) bytes() []byte { return t.b }

func (t *textBuf) flush() {
	if len(t.b) > 0 {
		t.emit(t.b)
		t.b = t.b[:0]
	}
}

// emit hands p to the sink, opening it on the first piece.
func (t *textBuf) emit(p []byte) {
	if !t.opened {
		t.opened = true
		t.sink = t.open(t.loc, t.tabular)
	}
	if t.hash != nil {
		_, _ = t.hash.Write(p)
	}
	if t.sink == nil || t.err != nil {
		return
	}
	if _, err := t.sink.Write(p); err != nil {
		t.err = err
	}
}

// finish puts the text into p: Text without a sink, else the rest is
// written and p.Sink set.
func (t *textBuf) finish(p *Part) {
	if !t.streaming() {
		p.Text = t.b
		return
	}
	t.flush()
	if t.pooled != nil {
		putScratch(t.pooled, t.b)
		t.pooled, t.b = nil, nil
	}
	p.Text = nil
	p.Sink = t.sink
	p.streamErr = t.err
	if t.hash != nil {
		p.hash, p.hashed = t.hash.Sum64(), true
	}
}

func isAttachmentLoc(loc string) bool {
	return len(loc) >= len("attachment:") && loc[:len("attachment:")] == "attachment:"
}

// smallText is the read buffer of a part's first bytes before it takes a
// pooled window.
const smallText = 8 << 10

// chunkPool holds the raw read windows of streamed text.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, streamChunk); return &b }}

// outPool holds decode output windows (a byte decodes to at most three in
// UTF-8, room the Japanese decoder makes before it writes).
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 3*streamChunk+64); return &b }}

// streamDecode reads up to MaxPartText bytes of r, decodes them window by
// window in the charset declared (cs) or detected on the first window, and
// writes the text to tb. checkTabular sets tb.tabular from the first
// window's text (delimited text that sniffing did not call CSV); it must
// be decided before the first piece reaches the sink. It returns the
// charset used, whether raw bytes beyond the cap were dropped and the
// charset problem to report, if any; the rest of r is left to the caller
// to drain.
func (w *walker) streamDecode(r io.Reader, cs string, xmlDecl, checkTabular bool, tb *textBuf) (used string, truncated bool, problem string) {
	lr := &io.LimitedReader{R: r, N: w.lim.MaxPartText}
	// Most parts are a few KB of mail text: they are read into a buffer of
	// their size; only a part that fills it takes the pooled windows (a
	// gateway collects often, emptying pools, and would otherwise allocate
	// both windows for every body). The small buffers come from a pool
	// too: made per part they were most of the bytes a few-KB mail cost.
	sp := getScratch()
	small := slices.Grow((*sp)[:0], smallText)[:smallText]
	defer putScratch(sp, small)
	in := small
	n, err := io.ReadFull(lr, in)
	var out []byte
	if err == nil && lr.N > 0 {
		inp := chunkPool.Get().(*[]byte)
		outp := outPool.Get().(*[]byte)
		defer func() {
			*outp = out[:0] // as grown
			chunkPool.Put(inp)
			outPool.Put(outp)
		}()
		copy(*inp, in[:n])
		in, out = *inp, (*outp)[:0]
		var m int
		m, err = io.ReadFull(lr, in[n:])
		n += m
	} else {
		op := getScratch()
		out = slices.Grow((*op)[:0], 3*n+16)
		defer func() { putScratch(op, out) }()
	}
	eof := err != nil
	cut := !eof
	if lr.N == 0 {
		// the cap was reached: anything more is cut
		var one [1]byte
		k, _ := io.ReadFull(r, one[:])
		truncated, cut, eof = k > 0, k > 0, true
	}
	first := in[:n]
	if xmlDecl && cs == "" {
		cs = xmlDeclCharset(first)
	}
	enc, name, problem := chooseCharset(first, cs, cut)
	if enc == unicode.UTF8BOM && len(first) >= 3 {
		first, enc = first[3:], unicode.UTF8 // the BOM is not text
	}
	d := newTextDecoder(enc)
	defer releaseTextDecoder(d)
	chunk := first
	for i := 0; ; i++ {
		out = d.Append(out[:0], chunk, eof)
		if i == 0 && checkTabular && !tb.tabular {
			tb.tabular = looksTabular(out)
		}
		tb.write(out)
		if eof || tb.full {
			break
		}
		n, err = io.ReadFull(lr, in)
		chunk, eof = in[:n], err != nil
		if lr.N == 0 {
			var one [1]byte
			k, _ := io.ReadFull(r, one[:])
			truncated, eof = k > 0, true
		}
	}
	if problem == "" && d.Bad() > 0 {
		problem = "invalid " + name + " sequences replaced"
	}
	return encodingName(enc), truncated, problem
}

// chooseCharset picks the encoding of streamed text from its first window,
// as decodeCut does for a whole text: a declared charset unless it reads
// worse than the detected one. name is how a later "invalid sequences"
// problem names it; problem is what to report already.
func chooseCharset(first []byte, declared string, cut bool) (enc encoding.Encoding, name, problem string) {
	if d := lookupCharset(declared); d != nil {
		bad := badIn(d, first, cut)
		if bad == 0 {
			return d, declared, ""
		}
		det := detectCharset(first, cut)
		if encodingName(det) != encodingName(d) {
			if bad2 := badIn(det, first, cut); bad2 < bad {
				return det, encodingName(det), "declared charset " + declared + " does not match content; read as " + encodingName(det)
			}
		}
		return d, declared, "invalid " + declared + " sequences replaced"
	}
	det := detectCharset(first, cut)
	if declared != "" && !isASCIILabel(declared) && !isNoCharset(declared) {
		problem = "unknown charset " + declared + "; detected " + encodingName(det)
	}
	return det, encodingName(det), problem
}

// badIn counts the invalid sequences of b in e; a sequence cut at the end
// of a window that goes on (cut) is not one.
func badIn(e encoding.Encoding, b []byte, cut bool) int {
	d := newTextDecoder(e)
	defer releaseTextDecoder(d)
	bp := getScratch()
	out := d.Append((*bp)[:0], b, !cut)
	putScratch(bp, out)
	return d.Bad()
}
