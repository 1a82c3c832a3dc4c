package password

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDefaultPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		p, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != DefaultLength {
			t.Fatalf("length %d", len(p))
		}
		if strings.ContainsAny(p, "0Oo1lIi|") {
			t.Fatal("a password has a look-alike character")
		}
		for _, c := range []byte(p) {
			if strings.IndexByte(DefaultAlphabet, c) < 0 {
				t.Fatalf("character %q outside the alphabet", c)
			}
		}
		if !hasAllClasses([]byte(p), []string{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789"}) {
			t.Fatal("password misses a character class")
		}
		if seen[p] {
			t.Fatal("duplicate password in 2000 draws")
		}
		seen[p] = true
	}
}

func TestAlphabetHasNoLookAlikes(t *testing.T) {
	for _, group := range []string{"0OoDQ", "1lIij", "2Z", "5Ss", "8B", "uv", "9gq"} {
		n := 0
		for _, c := range group {
			if strings.ContainsRune(DefaultAlphabet, c) {
				n++
			}
		}
		if n > 1 {
			t.Errorf("DefaultAlphabet has more than one of %q", group)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestCustomOptions(t *testing.T) {
	p, err := Generate(Options{Length: 20, Alphabet: "abcdefghijkmnpqrstuvwxyz-_!"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 20 || strings.Trim(p, "abcdefghijkmnpqrstuvwxyz-_!") != "" {
		t.Errorf("got %q", p)
	}
	if !strings.ContainsAny(p, "-_!") {
		t.Errorf("%d-character password misses the symbol class", len(p))
	}
	for _, bad := range []Options{
		{Length: 7},
		{Length: 300},
		{Alphabet: "abcdefghi"},
		{Alphabet: "abcdefghijj"},
		{Alphabet: "abcdefghij k"},
		{Alphabet: "abcdefghijあ"},
	} {
		if _, err := Generate(bad); err == nil {
			t.Errorf("Generate(%+v) accepted", bad)
		}
	}
}

// cycleReader yields 0, 1, ..., 255, 0, 1, ...
type cycleReader struct{ b byte }

func (c *cycleReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.b
		c.b++
	}
	return len(p), nil
}

// TestSamplerUniform feeds every byte value equally often: rejection
// sampling must then give every index exactly the same count (a modulo
// reduction would not).
func TestSamplerUniform(t *testing.T) {
	for _, n := range []int{10, 43, 55, 64, 94, 255, 256} {
		s := &sampler{r: &cycleReader{}, n: n}
		counts := make([]int, n)
		draws := (256 - 256%n) * 64 // 64 full cycles, every 64-byte buffer aligned
		for range draws {
			k, err := s.next()
			if err != nil {
				t.Fatal(err)
			}
			counts[k]++
		}
		for k, c := range counts {
			if c != draws/n {
				t.Fatalf("n=%d: index %d drawn %d times, want %d", n, k, c, draws/n)
			}
		}
	}
}

func TestBrokenSourceFails(t *testing.T) {
	// A source stuck at zero yields "AAAA...", which misses classes.
	if _, err := Generate(Options{Rand: bytes.NewReader(make([]byte, 1<<20))}); !errors.Is(err, ErrWeakSource) {
		t.Errorf("zero source: %v, want ErrWeakSource", err)
	}
	// A source stuck at 255 is rejected byte after byte.
	s := &sampler{r: &constReader{255}, n: 43}
	if _, err := s.next(); !errors.Is(err, ErrWeakSource) {
		t.Errorf("0xff source: %v, want ErrWeakSource", err)
	}
	if _, err := Generate(Options{Rand: bytes.NewReader(nil)}); !errors.Is(err, io.EOF) {
		t.Errorf("empty source: %v, want EOF", err)
	}
}

type constReader struct{ b byte }

func (c *constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.b
	}
	return len(p), nil
}

func TestBits(t *testing.T) {
	b := Bits(Options{})
	// 12 × log2(41) ≈ 64.3 bits before the class rule, which costs
	// about a third of a bit (a digit is missing in 21% of raw draws).
	if b < 63.8 || b > 64.1 {
		t.Errorf("default entropy %.2f bits", b)
	}
	if got := Bits(Options{Length: 16, Alphabet: "0123456789abcdef"}); got < 63 || got > 64 {
		t.Errorf("hex-16 entropy %.2f bits", got)
	}
}
