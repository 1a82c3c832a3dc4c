package extract

import (
	"archive/zip"
	"bufio"
	"io"
	"sync"

	kflate "github.com/klauspost/compress/flate"
)

// useFastInflate makes zr inflate deflated members with klauspost's
// decoder (already in the build through the metrics library), about twice
// as fast as compress/flate on Office XML and without its per-block
// allocations; decoders are pooled as archive/zip pools its own.
func useFastInflate(zr *zip.Reader) {
	zr.RegisterDecompressor(zip.Deflate, newInflater)
}

var inflaters sync.Pool

type pooledInflater struct {
	io.ReadCloser
	// br is the decoder's byte source: given a reader without ReadByte
	// (archive/zip passes a SectionReader) the decoder wraps it in a new
	// bufio.Reader at every Reset, the larger part of what an Office
	// part's inflating allocated; this one is reset instead.
	br     *bufio.Reader
	closed bool // a second Close must not pool it twice
}

func newInflater(r io.Reader) io.ReadCloser {
	if p, ok := inflaters.Get().(*pooledInflater); ok {
		p.br.Reset(r)
		if err := p.ReadCloser.(kflate.Resetter).Reset(p.br, nil); err == nil {
			p.closed = false
			return p
		}
	}
	br := bufio.NewReader(r)
	return &pooledInflater{ReadCloser: kflate.NewReader(br), br: br}
}

func (p *pooledInflater) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.ReadCloser.Close()
	p.br.Reset(nil) // holds no reference to the archive while pooled
	inflaters.Put(p)
	return err
}
