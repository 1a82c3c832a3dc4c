package aeszip_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/internal/spillbuf"
)

const testPassword = "Kx7-ab9QwErT"

type entry struct {
	name string // as passed to Add
	want string // name expected in the archive
	data []byte
}

func sampleEntries() []entry {
	return []entry{
		{"見積書_2026年度.txt", "見積書_2026年度.txt", bytes.Repeat([]byte("御見積金額 ¥1,234,567 税込\n"), 300)},
		{"empty.csv", "empty.csv", nil},
		{"顧客〜一覧.csv", "顧客〜一覧.csv", []byte("氏名,電話\n山田太郎,03-1234-5678\n")}, // U+301C: not CP932
		{"../../etc/report.bin", "report.bin", binaryData(70000)},
		{"ﾃｽﾄ①.txt", "ﾃｽﾄ①.txt", []byte("half-width kana and a circled digit\n")},
		// Past the stateless encoder's size (level 5, still in memory)
		// and past the in-memory limit (staged).
		{"注文一覧.csv", "注文一覧.csv", sampleCSV(100 << 10)},
		{"議事録.txt", "議事録.txt", sampleText(600 << 10)},
		// Past the in-memory limit and stored (does not compress).
		{"図面.bin", "図面.bin", binaryData(700 << 10)},
	}
}

// binaryData is deterministic, poorly compressible data.
func binaryData(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func writeArchive(t testing.TB, path string, opt aeszip.Options, entries []entry, streamed bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opt.TempDir = t.TempDir()
	var dst io.Writer = f
	var sb *spillbuf.Buffer
	if streamed {
		// A destination the writer can patch, as the rewriter's: large
		// AES entries stream in after their local header.
		sb = spillbuf.New(t.TempDir(), "archive")
		defer sb.Close()
		dst = sb
	}
	zw, err := aeszip.NewWriter(dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2026, 4, 1, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))
	for _, e := range entries {
		got, err := zw.Add(e.name, mod, bytes.NewReader(e.data))
		if err != nil {
			t.Fatalf("Add(%q): %v", e.name, err)
		}
		if got != e.want {
			t.Fatalf("Add(%q) stored as %q, want %q", e.name, got, e.want)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if sb != nil {
		if err := sb.CopyTo(f, make([]byte, 32<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestInteropExternalTools(t *testing.T) {
	modes := []struct {
		name string
		opt  aeszip.Options
		only []string // extractors that must read this mode; nil = all
	}{
		{"aes-utf8", aeszip.Options{Password: testPassword}, nil},
		{"aes-utf8-streamed", aeszip.Options{Password: testPassword}, nil},
		{"aes-cp932", aeszip.Options{Password: testPassword, Names: aeszip.CP932}, nil},
		{"zipcrypto-utf8", aeszip.Options{Password: testPassword, Encryption: aeszip.ZipCrypto}, nil},
		{"zipcrypto-cp932", aeszip.Options{Password: testPassword, Encryption: aeszip.ZipCrypto, Names: aeszip.CP932}, nil},
	}
	entries := sampleEntries()
	for _, m := range modes {
		archive := filepath.Join(t.TempDir(), m.name+".zip")
		writeArchive(t, archive, m.opt, entries, strings.HasSuffix(m.name, "-streamed"))
		for _, x := range extractors {
			t.Run(m.name+"/"+x.name, func(t *testing.T) {
				bin := tool(t, x.name)
				dir := t.TempDir()
				out, err := run(t, dir, bin, x.args(archive, dir, testPassword)...)
				if err != nil {
					t.Fatalf("%s failed: %v\n%s", x.name, err, out)
				}
				got := readTree(t, dir)
				if len(got) != len(entries) {
					t.Errorf("%s extracted %d files, want %d: %v", x.name, len(got), len(entries), keys(got))
				}
				for _, e := range entries {
					b, ok := got[e.want]
					if !ok {
						t.Errorf("%s: %q missing; have %v", x.name, e.want, keys(got))
						continue
					}
					if !bytes.Equal(b, e.data) {
						t.Errorf("%s: %q content differs (%d bytes, want %d)", x.name, e.want, len(b), len(e.data))
					}
				}
			})
			t.Run(m.name+"/"+x.name+"/wrong-password", func(t *testing.T) {
				bin := tool(t, x.name)
				dir := t.TempDir()
				out, err := run(t, dir, bin, x.args(archive, dir, "Wrong-Pass-1")...)
				if err == nil {
					t.Fatalf("%s accepted a wrong password:\n%s", x.name, out)
				}
				for name, b := range readTree(t, dir) {
					for _, e := range entries {
						if len(e.data) > 0 && bytes.Equal(b, e.data) {
							t.Errorf("%s wrote the plaintext of %q with a wrong password", x.name, name)
						}
					}
				}
			})
		}
	}
}

func keys(m map[string][]byte) []string {
	var s []string
	for k := range m {
		s = append(s, fmt.Sprintf("%q", k))
	}
	return s
}
