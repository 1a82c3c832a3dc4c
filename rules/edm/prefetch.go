//go:build amd64 || arm64

package edm

// prefetch asks the processor to bring the cache line at p in without
// waiting for it (PREFETCHT0, PRFM PLDL1KEEP): unlike a load, an
// outstanding prefetch does not hold back the instructions after it, so
// the filter blocks of a row's candidates are fetched together while the
// row is still being read. The Go compiler has no such intrinsic.
//
//go:noescape
func prefetch(p *byte)
