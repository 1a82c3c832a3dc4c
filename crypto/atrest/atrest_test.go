package atrest_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sendguard/sendguard/crypto/atrest"
)

func masterKey(t testing.TB) *atrest.MasterKey {
	t.Helper()
	secret, err := atrest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	mk, err := atrest.NewMasterKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func encrypt(t testing.TB, mk *atrest.MasterKey, chunk int, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := atrest.NewWriterSize(&buf, mk, chunk)
	if err != nil {
		t.Fatal(err)
	}
	// Write in uneven pieces to exercise chunk boundaries.
	for rest, step := data, 1; len(rest) > 0; step = step*3 + 1 {
		n := min(step, len(rest))
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decrypt(file []byte, keys ...*atrest.MasterKey) ([]byte, error) {
	r, err := atrest.NewReader(bytes.NewReader(file), keys...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

const headerLen = 84

func TestRoundTrip(t *testing.T) {
	mk := masterKey(t)
	const chunk = 64
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3*chunk + 5, 10000} {
		data := pattern(n)
		file := encrypt(t, mk, chunk, data)
		chunks := max(1, (n+chunk-1)/chunk)
		if want := headerLen + n + 16*chunks; len(file) != want {
			t.Errorf("n=%d: file is %d bytes, want %d", n, len(file), want)
		}
		if bytes.Contains(file, data[:min(n, 32)]) && n >= 16 {
			t.Errorf("n=%d: plaintext visible in the file", n)
		}
		got, err := decrypt(file, mk)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("n=%d: round trip differs", n)
		}
		// Small reads must give the same result.
		r, err := atrest.NewReader(iotest.HalfReader(bytes.NewReader(file)), mk)
		if err != nil {
			t.Fatal(err)
		}
		if err := iotest.TestReader(r, data); err != nil {
			t.Errorf("n=%d: %v", n, err)
		}
	}
	// Default chunk size, and two files of the same data differ.
	data := pattern(200 << 10)
	var a, b bytes.Buffer
	for _, buf := range []*bytes.Buffer{&a, &b} {
		w, err := atrest.NewWriter(buf, mk)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	}
	if bytes.Equal(a.Bytes()[headerLen:], b.Bytes()[headerLen:]) {
		t.Error("two encryptions of the same data are identical")
	}
	got, err := decrypt(a.Bytes(), mk)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("default chunk round trip: %v", err)
	}
}

// readUntilError returns what a reader released before failing.
func readUntilError(file []byte, mk *atrest.MasterKey) ([]byte, error) {
	r, err := atrest.NewReader(bytes.NewReader(file), mk)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, r)
	return out.Bytes(), err
}

func TestEveryByteFlipDetected(t *testing.T) {
	mk := masterKey(t)
	const chunk = 32
	data := pattern(3*chunk + 10)
	file := encrypt(t, mk, chunk, data)
	for i := range file {
		bad := bytes.Clone(file)
		bad[i] ^= 0x80
		got, err := readUntilError(bad, mk)
		if err == nil {
			t.Fatalf("flip at byte %d not detected", i)
		}
		// Only authenticated chunks before the damaged one may come out.
		damaged := max(0, (i-headerLen)/(chunk+16))
		if i < headerLen {
			damaged = 0
		}
		if len(got) > damaged*chunk || !bytes.Equal(got, data[:len(got)]) {
			t.Fatalf("flip at byte %d: %d bytes released before the error", i, len(got))
		}
	}
}

func TestTruncationDetected(t *testing.T) {
	mk := masterKey(t)
	const chunk = 32
	data := pattern(3 * chunk)
	file := encrypt(t, mk, chunk, data)
	for n := 0; n < len(file); n++ {
		_, err := readUntilError(file[:n], mk)
		if err == nil {
			t.Fatalf("truncation to %d of %d bytes not detected", n, len(file))
		}
		if n >= headerLen && (n-headerLen)%(chunk+16) == 0 && !errors.Is(err, atrest.ErrTruncated) {
			t.Errorf("truncation at chunk boundary %d: %v, want ErrTruncated", n, err)
		}
	}
}

func TestReorderSpliceAppendDetected(t *testing.T) {
	mk := masterKey(t)
	const chunk = 32
	const sealed = chunk + 16
	data := pattern(4 * chunk)
	file := encrypt(t, mk, chunk, data)
	c := func(f []byte, i int) []byte { return f[headerLen+i*sealed : headerLen+(i+1)*sealed] }

	swapped := bytes.Clone(file)
	copy(swapped[headerLen:], c(file, 1))
	copy(swapped[headerLen+sealed:], c(file, 0))
	if _, err := decrypt(swapped, mk); !errors.Is(err, atrest.ErrTampered) {
		t.Errorf("swapped chunks: %v, want ErrTampered", err)
	}

	dropped := append(bytes.Clone(file[:headerLen+sealed]), file[headerLen+2*sealed:]...)
	if _, err := decrypt(dropped, mk); !errors.Is(err, atrest.ErrTampered) {
		t.Errorf("dropped chunk: %v, want ErrTampered", err)
	}

	other := encrypt(t, mk, chunk, data)
	spliced := bytes.Clone(file)
	copy(spliced[headerLen+sealed:], c(other, 1))
	if _, err := decrypt(spliced, mk); !errors.Is(err, atrest.ErrTampered) {
		t.Errorf("chunk from another file: %v, want ErrTampered", err)
	}
	headerSwap := append(bytes.Clone(other[:headerLen]), file[headerLen:]...)
	if _, err := decrypt(headerSwap, mk); !errors.Is(err, atrest.ErrTampered) {
		t.Errorf("header from another file: %v, want ErrTampered", err)
	}

	for _, extra := range [][]byte{{0}, c(file, 3), bytes.Repeat([]byte{1}, 100)} {
		appended := append(bytes.Clone(file), extra...)
		if _, err := decrypt(appended, mk); !errors.Is(err, atrest.ErrTampered) {
			t.Errorf("%d bytes appended: %v, want ErrTampered", len(extra), err)
		}
	}
	// A repeated last chunk after itself.
	dup := append(bytes.Clone(file), c(file, 3)...)
	if _, err := decrypt(dup, mk); err == nil {
		t.Error("repeated last chunk accepted")
	}
}

func TestKeys(t *testing.T) {
	oldKey, newKey := masterKey(t), masterKey(t)
	data := pattern(1000)
	oldFile := encrypt(t, oldKey, 64, data)
	newFile := encrypt(t, newKey, 64, data)
	if _, err := decrypt(oldFile, newKey); !errors.Is(err, atrest.ErrUnknownKey) {
		t.Errorf("wrong master key: %v, want ErrUnknownKey", err)
	}
	for _, f := range [][]byte{oldFile, newFile} {
		if got, err := decrypt(f, newKey, oldKey); err != nil || !bytes.Equal(got, data) {
			t.Errorf("rotation key ring: %v", err)
		}
	}
	if _, err := atrest.NewMasterKey(make([]byte, 16)); !errors.Is(err, atrest.ErrKeySize) {
		t.Errorf("16-byte master key: %v", err)
	}
	if _, err := decrypt([]byte("not an encrypted file at all, but long enough to hold a header........................"), oldKey); !errors.Is(err, atrest.ErrFormat) {
		t.Errorf("garbage: %v, want ErrFormat", err)
	}
	if _, err := decrypt(nil, oldKey); !errors.Is(err, atrest.ErrFormat) {
		t.Errorf("empty: %v, want ErrFormat", err)
	}
	secret := bytes.Repeat([]byte{0x42}, 32)
	mk, _ := atrest.NewMasterKey(secret)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("k", "key", mk)
	for _, s := range []string{fmt.Sprint(mk), fmt.Sprintf("%+v %#v", mk, mk), logged.String()} {
		if strings.Contains(s, "4242") || strings.Contains(s, "BBBB") {
			t.Errorf("master key secret printed: %s", s)
		}
	}
}

func TestUnclosedWriterReadsAsTruncated(t *testing.T) {
	mk := masterKey(t)
	var buf bytes.Buffer
	w, _ := atrest.NewWriterSize(&buf, mk, 32)
	w.Write(pattern(100))
	if _, err := decrypt(buf.Bytes(), mk); !errors.Is(err, atrest.ErrTruncated) {
		t.Errorf("unclosed writer: %v, want ErrTruncated", err)
	}
}

// TestMemoryBounded streams 64 MiB through the writer and the reader and
// checks that their allocations do not grow with the data.
func TestMemoryBounded(t *testing.T) {
	mk := masterKey(t)
	const size = 64 << 20
	pr, pw := io.Pipe()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	errc := make(chan error, 1)
	go func() {
		w, err := atrest.NewWriter(pw, mk)
		if err == nil {
			_, err = io.Copy(w, io.LimitReader(zeroReader{}, size))
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
		errc <- err
	}()
	r, err := atrest.NewReader(pr, mk)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil || n != size {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("64 MiB through writer and reader: %d KiB allocated", alloc>>10)
	if alloc > 2<<20 {
		t.Errorf("allocated %d KiB for 64 MiB", alloc>>10)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// BenchmarkEncrypt compares the chunked writer and reader with one
// AES-256-GCM Seal over the whole buffer, the lower bound for this data.
func BenchmarkEncrypt(b *testing.B) {
	mk := masterKey(b)
	data := pattern(8 << 20)
	b.Run("gcm-one-shot", func(b *testing.B) {
		key, _ := atrest.GenerateKey()
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		nonce := make([]byte, 12)
		dst := make([]byte, 0, len(data)+16)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			aead.Seal(dst[:0], nonce, data, nil)
		}
	})
	b.Run("writer", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			w, _ := atrest.NewWriter(io.Discard, mk)
			w.Write(data)
			w.Close()
		}
	})
	file := encrypt(b, mk, atrest.DefaultChunkSize, data)
	b.Run("reader", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r, _ := atrest.NewReader(bytes.NewReader(file), mk)
			io.Copy(io.Discard, r)
		}
	})
}
