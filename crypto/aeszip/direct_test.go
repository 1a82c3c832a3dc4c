package aeszip

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
)

// rawPayload decrypts an AE-2 entry without inflating it and checks its
// authentication code: the compressed (or stored) bytes as written.
func rawPayload(t *testing.T, f *zip.File, password string) []byte {
	t.Helper()
	rc, err := f.OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	if err != nil || len(b) < 16+verifierLen+authCodeLen {
		t.Fatalf("%s: raw data: %v", f.Name, err)
	}
	keys, err := deriveAESKeys(password, b[:16], 32)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keys.verifier[:], b[16:18]) {
		t.Fatalf("%s: verifier differs", f.Name)
	}
	ct, code := b[18:len(b)-authCodeLen], b[len(b)-authCodeLen:]
	keys.mac.Write(ct)
	if !hmac.Equal(code, keys.mac.Sum(nil)[:authCodeLen]) {
		t.Fatalf("%s: authentication code differs", f.Name)
	}
	pt := make([]byte, len(ct))
	newCTRStream(keys).xor(pt, ct)
	return pt
}

// directSamples straddle the stateless encoder's and the in-memory limits.
func directSamples() [][]byte {
	text := func(n int) []byte {
		return []byte(strings.Repeat("御見積金額 ¥1,234,567 税込 納期 2026-04-01\r\n", n/40+1)[:n])
	}
	random := func(n int) []byte {
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
	return [][]byte{
		nil, []byte("abc"), random(500), text(4 << 10), random(6 << 10),
		text(statelessMax), text(statelessMax + 1), random(statelessMax + 1),
		text(100 << 10), random(200 << 10),
		text(directMax - 1), text(directMax), random(directMax + 1), text(600 << 10),
	}
}

// TestDirectSameAsStaged writes the same entries through the in-memory
// path and through the staged one: the headers are identical but for the
// compressed size of small deflated entries, every entry decrypts to its
// input, and entries the staged path would deflate or store the same way
// carry the same compressed bytes (all stored ones, deflated ones past
// statelessMax).
func TestDirectSameAsStaged(t *testing.T) { compareDirectStaged(t, directSamples()) }

// FuzzDirectSameAsStaged: any content, the two paths agree.
func FuzzDirectSameAsStaged(f *testing.F) {
	for _, s := range directSamples() {
		if len(s) <= 64<<10 {
			f.Add(s)
		}
	}
	f.Add([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"))
	f.Fuzz(func(t *testing.T, data []byte) { compareDirectStaged(t, [][]byte{data}) })
}

func compareDirectStaged(t *testing.T, samples [][]byte) {
	mod := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	build := func(direct bool) *zip.Reader {
		defer func(was bool) { useDirect = was }(useDirect)
		useDirect = direct
		var buf bytes.Buffer
		zw, err := NewWriter(&buf, Options{Password: "Kx7-ab9QwErT", TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range samples {
			if _, err := zw.Add(fmt.Sprintf("e%d.bin", i), mod, bytes.NewReader(s)); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		return zr
	}
	staged, direct := build(false), build(true)
	for i, s := range samples {
		a, b := staged.File[i], direct.File[i]
		if a.Name != b.Name || a.Method != b.Method || a.Flags != b.Flags || a.ReaderVersion != b.ReaderVersion ||
			a.CreatorVersion != b.CreatorVersion || !bytes.Equal(a.Extra, b.Extra) || a.CRC32 != b.CRC32 ||
			a.UncompressedSize64 != b.UncompressedSize64 || !a.Modified.Equal(b.Modified) || a.ExternalAttrs != b.ExternalAttrs {
			t.Errorf("%d bytes: headers differ:\nstaged %+v\ndirect %+v", len(s), a.FileHeader, b.FileHeader)
		}
		for _, f := range []*zip.File{a, b} {
			var out bytes.Buffer
			if _, err := Decrypt(f, "Kx7-ab9QwErT", &out); err != nil || !bytes.Equal(out.Bytes(), s) {
				t.Fatalf("%d bytes: does not read back: %v", len(s), err)
			}
		}
		pa, pb := rawPayload(t, a, "Kx7-ab9QwErT"), rawPayload(t, b, "Kx7-ab9QwErT")
		info, _ := parseAESExtra(a.Extra)
		if info.method == zip.Store || len(s) > statelessMax {
			if !bytes.Equal(pa, pb) || a.CompressedSize64 != b.CompressedSize64 {
				t.Errorf("%d bytes (method %d): payloads differ (%d and %d bytes)", len(s), info.method, len(pa), len(pb))
			}
		} else {
			want := new(bytes.Buffer)
			flate.StatelessDeflate(want, s, true, nil)
			if !bytes.Equal(pb, want.Bytes()) {
				t.Errorf("%d bytes: not the stateless encoder's output", len(s))
			}
		}
	}
}
