package spool_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/sendguard/sendguard/spool"
)

// TestDerivedPacedWriteback: a derived copy written back in chunks as it
// grows keeps every byte in order and the hash over all of them, whatever
// the sizes of the writes against the chunk (odd sizes straddle chunks,
// and one write spans several).
func TestDerivedPacedWriteback(t *testing.T) {
	data := make([]byte, 700<<10+13)
	rand.Read(data)
	want := sha256.Sum256(data)
	for _, tc := range []struct {
		name  string
		pace  int64
		write int
	}{
		{"off", -1, 4096},
		{"default", 0, 4096},
		{"small chunks odd writes", 10 << 10, 3001},
		{"write spans chunks", 4 << 10, 100 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := spool.Open(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			st.DerivedPace = tc.pace
			id := spool.NewID()
			bw, err := st.CreateDerived(id, "out")
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < len(data); off += tc.write {
				if _, err := bw.Write(data[off:min(off+tc.write, len(data))]); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := bw.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if sum != hex.EncodeToString(want[:]) {
				t.Errorf("hash %s, want %x", sum, want)
			}
			got, err := os.ReadFile(st.BodyPath(id) + ".out")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("file differs from what was written (%d bytes, want %d)", len(got), len(data))
			}
		})
	}
}
