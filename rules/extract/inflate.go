package extract

import (
	"archive/zip"
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
	closed bool // a second Close must not pool it twice
}

func newInflater(r io.Reader) io.ReadCloser {
	if p, ok := inflaters.Get().(*pooledInflater); ok {
		if err := p.ReadCloser.(kflate.Resetter).Reset(r, nil); err == nil {
			p.closed = false
			return p
		}
	}
	return &pooledInflater{ReadCloser: kflate.NewReader(r)}
}

func (p *pooledInflater) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.ReadCloser.Close()
	inflaters.Put(p)
	return err
}
