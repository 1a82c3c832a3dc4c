package worker

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadInput(t *testing.T) {
	data := make([]byte, 3<<20)
	rand.NewChaCha8([32]byte{7}).Read(data)
	for _, n := range []int{0, 1, 4096, hugeInput - 2, hugeInput, 1 << 20, 3 << 20} {
		in := data[:n]
		for name, r := range map[string]io.Reader{
			"whole":   bytes.NewReader(in),
			"onebyte": iotest.OneByteReader(bytes.NewReader(in[:min(n, 8192)])),
			"half":    iotest.HalfReader(bytes.NewReader(in)),
		} {
			want := in
			if name == "onebyte" {
				want = in[:min(n, 8192)]
			}
			got, err := readInput(r, int64(len(want)))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%d bytes, %s: %d bytes back, %v", n, name, len(got), err)
			}
			if cap(got) != len(got) {
				t.Fatalf("%d bytes, %s: capacity %d past the input", n, name, cap(got))
			}
		}
		// a larger budget than the input, as an older parent sent it
		if got, err := readInput(bytes.NewReader(in), int64(n)+12345); err != nil || !bytes.Equal(got, in) {
			t.Fatalf("%d bytes under a larger budget: %d back, %v", n, len(got), err)
		}
		// one byte more than the budget is refused, not cut
		if n > 0 {
			if _, err := readInput(bytes.NewReader(in), int64(n-1)); !errors.Is(err, errInputTooLarge) {
				t.Fatalf("%d bytes under a budget of %d: %v", n, n-1, err)
			}
		}
	}
	boom := errors.New("pipe broke")
	if _, err := readInput(iotest.ErrReader(boom), 10); !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
	if _, err := readInput(iotest.TimeoutReader(bytes.NewReader(data[:hugeInput*2])), hugeInput*2); err == nil {
		t.Fatal("a read that fails midway was accepted")
	}
}

// A spare worker's request: the budget line, then the file, read through
// one buffer. (Serve itself, which confines the process it runs in, is
// run in real workers by rules/extract's spare tests.)
func TestBudgetLine(t *testing.T) {
	b := Budget{CPU: 1e9, Memory: 1 << 30, MaxIn: 9, MaxText: 1000, Ratio: 100, Inflated: 1 << 20}
	file := strings.Repeat("PDF bytes ", 1000)
	spec, rest, err := budgetLine(iotest.HalfReader(strings.NewReader(b.Encode() + "\n" + file)))
	if err != nil || spec != b.Encode() {
		t.Fatalf("line %q, %v", spec, err)
	}
	if got, err := io.ReadAll(rest); err != nil || string(got) != file {
		t.Fatalf("the file after the line: %d bytes, %v", len(got), err)
	}
	for _, tc := range []struct{ name, in string }{
		{"no line", "not a pdf"},
		{"empty", ""},
		{"line too long", strings.Repeat("x", maxBudgetLine+1) + "\nnot a pdf"},
	} {
		if _, _, err := budgetLine(strings.NewReader(tc.in)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
