package detect

import (
	"math"
	"math/bits"
)

// distinct counts distinct 64-bit hashes: exactly up to exactLimit, then
// with a HyperLogLog sketch of hllRegisters registers (standard error
// ≈0.8%), so a million-row list costs 16 KiB per detector instead of a
// cache-missing map of a million entries.
type distinct struct {
	exact map[uint64]struct{}
	hll   []uint8 // nil while exact
}

const (
	exactLimit   = 4096
	hllBits      = 14
	hllRegisters = 1 << hllBits
)

// add records h and reports whether it was new. Once approximate, "new"
// means "changed the sketch", which callers use only for samples.
func (d *distinct) add(h uint64) bool {
	if d.hll != nil {
		return d.hllAdd(h)
	}
	if d.exact == nil {
		d.exact = map[uint64]struct{}{}
	}
	if _, ok := d.exact[h]; ok {
		return false
	}
	d.exact[h] = struct{}{}
	if len(d.exact) > exactLimit {
		d.hll = make([]uint8, hllRegisters)
		for x := range d.exact {
			d.hllAdd(x)
		}
		d.exact = nil
	}
	return true
}

// has reports whether h was seen; approximate sets answer false.
func (d *distinct) has(h uint64) bool {
	_, ok := d.exact[h]
	return ok
}

func (d *distinct) hllAdd(h uint64) bool {
	// A final avalanche keeps the estimate sound for any 64-bit hash.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	idx := h >> (64 - hllBits)
	rank := uint8(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1)) + 1)
	if rank > d.hll[idx] {
		d.hll[idx] = rank
		return true
	}
	return false
}

// merge adds o into d.
func (d *distinct) merge(o *distinct) {
	if o.hll == nil {
		for h := range o.exact {
			d.add(h)
		}
		return
	}
	if d.hll == nil {
		d.hll = make([]uint8, hllRegisters)
		for h := range d.exact {
			d.hllAdd(h)
		}
		d.exact = nil
	}
	for i, r := range o.hll {
		d.hll[i] = max(d.hll[i], r)
	}
}

func (d *distinct) approximate() bool { return d.hll != nil }

// count returns the number of distinct hashes (an estimate when approximate).
func (d *distinct) count() int {
	if d.hll == nil {
		return len(d.exact)
	}
	const m = float64(hllRegisters)
	sum, zeros := 0.0, 0
	for _, r := range d.hll {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting for small sets
	}
	return int(math.Round(est))
}
