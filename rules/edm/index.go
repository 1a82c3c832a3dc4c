package edm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// File layout (all integers big-endian):
//
//	magic    "SGEDM1\n\x00"
//	u32      header length, then the header as JSON (Info)
//	entries  Info.Entries × 12 bytes: 8-byte hash, 4-byte record<<4 | field
//	bloom    Info.BloomBlocks × 64 bytes: the keyed prefilter (prefilter.go)
//	u32      CRC-32C of everything before it
//
// Entries are sorted by hash, then record, so that one value's records are
// one run and a record can be binary-searched in a long run.
var magic = []byte("SGEDM1\n\x00")

const (
	entrySize = 12
	// MaxFields and MaxRecords follow from the entry's 4-bit field and
	// 28-bit record number.
	MaxFields  = 16
	MaxRecords = 1<<28 - 1
	chunkLen   = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Info describes an index; it holds no values.
type Info struct {
	Fields  []string  `json:"fields"`
	Records int       `json:"records"`
	Entries int       `json:"entries"`
	Created time.Time `json:"created"`
	KeyID   string    `json:"key_id"`
	// BloomBlocks is the size of the prefilter in 64-byte blocks.
	BloomBlocks int `json:"bloom_blocks"`
	// Shapes are the value shapes present with their length ranges
	// (shape.go): [shape, min, max]. An index written before shapes
	// were recorded has none and is matched without the shape check.
	Shapes [][3]uint16 `json:"shapes,omitempty"`
}

// HasShapes reports whether the index records its values' shapes, which
// make matching cheaper; an older index lacks them until re-imported.
func (i Info) HasShapes() bool { return len(i.Shapes) > 0 }

// ErrCorrupt is wrapped by every error about an index file's content.
var ErrCorrupt = errors.New("corrupt")

// entry is one value of one record during import; three 32-bit words keep
// it at 12 bytes (a uint64 would pad it to 16).
type entry struct {
	hi, lo, v uint32
}

func (e entry) hash() uint64 { return uint64(e.hi)<<32 | uint64(e.lo) }

func cmpEntry(a, b entry) int {
	switch {
	case a.hash() < b.hash():
		return -1
	case a.hash() > b.hash():
		return 1
	case a.v < b.v:
		return -1
	case a.v > b.v:
		return 1
	}
	return 0
}

// Builder collects records and writes an index. Entries are kept in
// fixed-size chunks, so that memory grows by chunks and never by copying.
type Builder struct {
	h       *hasher
	keyID   string
	fields  []string
	kinds   []Kind
	chunks  [][]entry
	records int
	entries int
	sip     sipKey
	bloom   bloom
	shapes  Shapes
}

// NewBuilder starts an index of records with the given field names.
func NewBuilder(key []byte, fields []string) (*Builder, error) {
	if len(fields) == 0 || len(fields) > MaxFields {
		return nil, fmt.Errorf("edm: 1 to %d fields, got %d", MaxFields, len(fields))
	}
	b := &Builder{h: newHasher(key), keyID: keyID(key), fields: slices.Clone(fields),
		sip: prefilterKey(key), bloom: make(bloom, maxBloomBlocks*blockBytes)}
	for _, f := range fields {
		b.kinds = append(b.kinds, KindOf(f))
	}
	return b, nil
}

// Add adds one record; values[i] is the value of field i ("" when absent).
// It reports whether the record had any matchable value (records are
// numbered from 1 in the order added, counting those without).
func (b *Builder) Add(values []string) (bool, error) {
	if b.records == MaxRecords {
		return false, fmt.Errorf("edm: more than %d records", MaxRecords)
	}
	b.records++
	any := false
	for i, v := range values {
		if i >= len(b.fields) {
			break
		}
		n := Normalize(b.kinds[i], v)
		if n == "" {
			continue
		}
		h := b.h.sum(n)
		b.bloom.add(siphash(b.sip, []byte(n)))
		b.shapes.add([]byte(n))
		b.push(entry{hi: uint32(h >> 32), lo: uint32(h), v: uint32(b.records)<<4 | uint32(i)})
		any = true
	}
	return any, nil
}

func (b *Builder) push(e entry) {
	if len(b.chunks) == 0 || len(b.chunks[len(b.chunks)-1]) == chunkLen {
		b.chunks = append(b.chunks, make([]entry, 0, chunkLen))
	}
	c := &b.chunks[len(b.chunks)-1]
	*c = append(*c, e)
	b.entries++
}

// Records is the number of records added.
func (b *Builder) Records() int { return b.records }

// WriteFile writes the index to path atomically: a temp file in the same
// directory, fsynced, renamed over path, and the directory fsynced. A
// reader never sees a partial index.
func (b *Builder) WriteFile(path string, created time.Time) (Info, error) {
	for _, c := range b.chunks {
		slices.SortFunc(c, cmpEntry)
	}
	b.bloom = b.bloom.fold(b.entries)
	info := Info{Fields: b.fields, Records: b.records, Entries: b.entries, Created: created.UTC().Truncate(time.Second), KeyID: b.keyID,
		BloomBlocks: b.bloom.blocks(), Shapes: b.shapes.encode()}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".edm-*.tmp")
	if err != nil {
		return Info{}, fmt.Errorf("create edm index: %w", err)
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return Info{}, fmt.Errorf("chmod edm index: %w", err)
	}
	crc := crc32.New(crcTable)
	w := bufio.NewWriterSize(io.MultiWriter(tmp, crc), 1<<20)
	hdr, err := json.Marshal(info)
	if err != nil {
		return Info{}, err
	}
	w.Write(magic)
	binary.Write(w, binary.BigEndian, uint32(len(hdr)))
	w.Write(hdr)
	var rec [entrySize]byte
	b.merge(func(e entry) {
		binary.BigEndian.PutUint64(rec[:8], e.hash())
		binary.BigEndian.PutUint32(rec[8:], e.v)
		w.Write(rec[:])
	})
	w.Write(b.bloom)
	if err := w.Flush(); err != nil {
		return Info{}, fmt.Errorf("write edm index: %w", err)
	}
	if err := binary.Write(tmp, binary.BigEndian, crc.Sum32()); err != nil {
		return Info{}, fmt.Errorf("write edm index: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, fmt.Errorf("fsync edm index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Info{}, fmt.Errorf("close edm index: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Info{}, fmt.Errorf("rename edm index: %w", err)
	}
	tmp = nil
	if err := syncDir(dir); err != nil {
		return Info{}, fmt.Errorf("fsync edm index directory: %w", err)
	}
	return info, nil
}

// merge calls fn for every entry in sorted order, merging the sorted chunks.
func (b *Builder) merge(fn func(entry)) {
	pos := make([]int, len(b.chunks))
	for {
		best := -1
		for i, c := range b.chunks {
			if pos[i] < len(c) && (best < 0 || cmpEntry(c[pos[i]], b.chunks[best][pos[best]]) < 0) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		fn(b.chunks[best][pos[best]])
		pos[best]++
	}
}

// Index is a loaded index. It is immutable and safe for concurrent use.
type Index struct {
	info     Info
	key      []byte
	pool     sync.Pool // *hasher
	scanners sync.Pool // *scanner
	sip      sipKey
	bloom    bloom
	data     []byte     // the entries
	tab      []uint32   // tab[p] is the first entry whose hash has prefix ≥ p
	sh       uint       // 64 − prefix bits
	shape    *Shapes    // nil: an index without shapes
	caps     *shapeCaps // from shape
}

// Open reads the index at path and checks it against key: a truncated or
// altered file, or an index built with another key, is an error.
func Open(path string, key []byte) (*Index, error) {
	raw, err := readHuge(path)
	if err != nil {
		return nil, fmt.Errorf("read edm index: %w", err)
	}
	ix, err := parse(raw, key)
	if err != nil {
		return nil, fmt.Errorf("edm index %s: %w", path, err)
	}
	return ix, nil
}

func parse(raw, key []byte) (*Index, error) {
	if len(raw) < len(magic)+8 || !bytes.Equal(raw[:len(magic)], magic) {
		return nil, fmt.Errorf("%w: not an edm index", ErrCorrupt)
	}
	body := raw[:len(raw)-4]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(raw[len(raw)-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	p := body[len(magic):]
	hl := binary.BigEndian.Uint32(p)
	p = p[4:]
	if uint64(hl) > uint64(len(p)) {
		return nil, fmt.Errorf("%w: bad header length", ErrCorrupt)
	}
	var info Info
	if err := json.Unmarshal(p[:hl], &info); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	data := p[hl:]
	bb := info.BloomBlocks
	if info.Entries < 0 || bb < 1 || bb&(bb-1) != 0 || bb > maxBloomBlocks || len(data) != info.Entries*entrySize+bb*blockBytes ||
		len(info.Fields) == 0 || len(info.Fields) > MaxFields {
		return nil, fmt.Errorf("%w: header does not match the entries", ErrCorrupt)
	}
	if info.KeyID != keyID(key) {
		return nil, errors.New("built with a different key (edm.key_file)")
	}
	ix := &Index{info: info, data: data[:info.Entries*entrySize], bloom: bloom(data[info.Entries*entrySize:]), sip: prefilterKey(key)}
	if info.HasShapes() {
		t, ok := decodeShapes(info.Shapes)
		if !ok {
			return nil, fmt.Errorf("%w: bad shape table", ErrCorrupt)
		}
		ix.shape, ix.caps = t, t.caps()
	}
	data = ix.data
	ix.setKey(key)
	var prev [entrySize]byte
	for i := 0; i < len(data); i += entrySize {
		e := data[i : i+entrySize]
		if i > 0 && bytes.Compare(prev[:], e) >= 0 {
			return nil, fmt.Errorf("%w: entries out of order", ErrCorrupt)
		}
		if int(binary.BigEndian.Uint32(e[8:])&0xF) >= len(info.Fields) {
			return nil, fmt.Errorf("%w: field out of range", ErrCorrupt)
		}
		copy(prev[:], e)
	}
	ix.buildTable()
	return ix, nil
}

// setKey keeps the key for the pooled hash states.
func (ix *Index) setKey(key []byte) {
	ix.key = slices.Clone(key)
	ix.pool.New = func() any { return newHasher(ix.key) }
	ix.scanners.New = func() any { return newScanner(ix) }
}

// buildTable indexes the entries by hash prefix, about four entries per
// slot, so that a lookup is one table read and a short scan.
func (ix *Index) buildTable() {
	n := ix.info.Entries
	b := 1
	if n > 4 {
		b = min(bits.Len(uint(n/4)), 24)
	}
	ix.sh = uint(64 - b)
	ix.tab = hugeUint32s(1<<b + 1)
	j := 0
	for p := range 1 << b {
		for j < n && ix.hash(j)>>ix.sh < uint64(p) {
			j++
		}
		ix.tab[p] = uint32(j)
	}
	ix.tab[1<<b] = uint32(n)
	settleHuge(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ix.tab))), 4*len(ix.tab)))
}

// hugeUint32s is hugeBytes for n uint32s (a huge page holds whole ones).
func hugeUint32s(n int) []uint32 {
	if 4*n < hugePage {
		return make([]uint32, n)
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(hugeBytes(4*n)))), n)
}

// readHuge reads the file at path into hugeBytes (see there).
func readHuge(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if int64(int(fi.Size())) != fi.Size() {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorrupt, fi.Size())
	}
	b := hugeBytes(int(fi.Size()))
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	settleHuge(b)
	return b, nil
}

func (ix *Index) hash(i int) uint64 { return binary.BigEndian.Uint64(ix.data[i*entrySize:]) }
func (ix *Index) val(i int) uint32  { return binary.BigEndian.Uint32(ix.data[i*entrySize+8:]) }

// run returns the entry range [lo, hi) of hash h.
func (ix *Index) run(h uint64) (lo, hi int) {
	lo, b := ix.first(h)
	hi = lo
	for hi < b && hi < lo+linearRead && ix.hash(hi) == h {
		hi++
	}
	if hi == lo+linearRead && hi < b && ix.hash(hi) == h {
		hi += sort.Search(b-hi, func(i int) bool { return ix.hash(hi+i) > h })
	}
	return lo, hi
}

// runFanout is run for a value that counts only when it has at most
// maxFanout entries: for a longer run it returns hi = -1 without looking
// for the run's end.
func (ix *Index) runFanout(h uint64) (lo, hi int) {
	lo, b := ix.first(h)
	hi = lo
	for hi < b && hi < lo+linearRead && ix.hash(hi) == h {
		hi++
	}
	if hi == lo+linearRead && hi < b && ix.hash(hi) == h {
		if lo+maxFanout < b && ix.hash(lo+maxFanout) == h { // sorted: lo..lo+maxFanout all hold h
			return lo, -1
		}
		for hi < b && ix.hash(hi) == h {
			hi++
		}
	}
	return lo, hi
}

// first returns the first entry of h's slot whose hash is not below h,
// and the slot's end. A slot holds about four entries: they are read in
// order (a cache line or two) rather than bisected, which would touch a
// line per step of a long run (a common name held by a thousand records).
func (ix *Index) first(h uint64) (lo, b int) {
	p := h >> ix.sh
	a := int(ix.tab[p])
	b = int(ix.tab[p+1])
	lo = a
	for lo < b && lo < a+linearRead && ix.hash(lo) < h {
		lo++
	}
	if lo == a+linearRead && lo < b && ix.hash(lo) < h {
		lo += sort.Search(b-lo, func(i int) bool { return ix.hash(lo+i) >= h })
	}
	return lo, b
}

// linearRead is the number of entries run reads in order before it
// bisects.
const linearRead = 8

// Info describes the index.
func (ix *Index) Info() Info { return ix.info }

// Fields are the index's field names, in record order.
func (ix *Index) Fields() []string { return ix.info.Fields }
