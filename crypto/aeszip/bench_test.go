package aeszip_test

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

const benchSize = 16 << 20

func benchData(b *testing.B) []byte {
	b.Helper()
	data, err := io.ReadAll(newTextReader(benchSize))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// benchInputs are CSV-like text and incompressible data (like JPEG or
// already-zipped attachments), where deflate is fastest and encryption
// weighs most.
func benchInputs(b *testing.B) []struct {
	name string
	data []byte
} {
	return []struct {
		name string
		data []byte
	}{{"text", benchData(b)}, {"random", binaryData(benchSize)}}
}

func writePlain(b *testing.B, data []byte) {
	zw := zip.NewWriter(io.Discard)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "data.csv", Method: zip.Deflate})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
}

// writePlainSame is writePlain with the compressor and level the AES
// writer uses: the encryption's own overhead is aes/same.
func writePlainSame(b *testing.B, data []byte) {
	zw := zip.NewWriter(io.Discard)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, 5) })
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "data.csv", Method: zip.Deflate})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
}

func writeEncrypted(b *testing.B, data []byte, enc aeszip.Encryption, dir string) {
	zw, err := aeszip.NewWriter(io.Discard, aeszip.Options{Password: testPassword, Encryption: enc, TempDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := zw.Add("data.csv", time.Now(), bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
}

// write7zz runs `7zz a -tzip -mem=AES256` single-threaded on the same
// data, from and to the page cache.
func write7zz(b *testing.B, bin, dir, input string) {
	out := filepath.Join(dir, "7zz.zip")
	os.Remove(out)
	if msg, err := run(b, dir, bin, "a", "-tzip", "-mem=AES256", "-mmt=1", "-p"+testPassword, out, input); err != nil {
		b.Fatalf("7zz: %v\n%s", err, msg)
	}
}

// BenchmarkWrite measures each writer alone on 16 MiB of CSV-like text.
func BenchmarkWrite(b *testing.B) {
	data := benchData(b)
	dir := b.TempDir()
	b.Run("plain-deflate", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			writePlain(b, data)
		}
	})
	b.Run("aes256", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			writeEncrypted(b, data, aeszip.AES256, dir)
		}
	})
	b.Run("zipcrypto", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			writeEncrypted(b, data, aeszip.ZipCrypto, dir)
		}
	})
	b.Run("7zz-aes256", func(b *testing.B) {
		bin := tool(b, "7zz")
		input := filepath.Join(dir, "data.csv")
		if err := os.WriteFile(input, data, 0o600); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(benchSize)
		for b.Loop() {
			write7zz(b, bin, dir, input)
		}
	})
}

// BenchmarkRatios runs all writers back to back in every iteration, so that
// they share the machine's load, and reports each one's time as a ratio of
// plain archive/zip deflate (1.00 = no overhead), in wall time and in CPU
// time (7zz's from its rusage), and as a ratio of a plain zip made with the
// same compressor at the same level (aes/same: encryption alone).
func BenchmarkRatios(b *testing.B) {
	bin := tool(b, "7zz")
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			data := in.data
			dir := b.TempDir()
			input := filepath.Join(dir, "data.csv")
			if err := os.WriteFile(input, data, 0o600); err != nil {
				b.Fatal(err)
			}
			var plain, same, aes, zc, sz, plainCPU, sameCPU, aesCPU, szCPU time.Duration
			timed := func(d, cpu *time.Duration, f func()) {
				self0, child0 := cpuTime()
				start := time.Now()
				f()
				*d += time.Since(start)
				self1, child1 := cpuTime()
				if cpu != nil {
					*cpu += self1 - self0 + child1 - child0
				}
			}
			for b.Loop() {
				timed(&plain, &plainCPU, func() { writePlain(b, data) })
				timed(&same, &sameCPU, func() { writePlainSame(b, data) })
				timed(&aes, &aesCPU, func() { writeEncrypted(b, data, aeszip.AES256, dir) })
				timed(&zc, nil, func() { writeEncrypted(b, data, aeszip.ZipCrypto, dir) })
				timed(&sz, &szCPU, func() { write7zz(b, bin, dir, input) })
			}
			n := float64(b.N)
			b.ReportMetric(float64(len(data))/1e6/(plain.Seconds()/n), "plain-MB/s")
			b.ReportMetric(float64(len(data))/1e6/(aes.Seconds()/n), "aes-MB/s")
			b.ReportMetric(aes.Seconds()/plain.Seconds(), "aes/plain")
			b.ReportMetric(zc.Seconds()/plain.Seconds(), "zipcrypto/plain")
			b.ReportMetric(sz.Seconds()/plain.Seconds(), "7zz/plain")
			b.ReportMetric(aes.Seconds()/sz.Seconds(), "aes/7zz")
			if plainCPU > 0 {
				b.ReportMetric(aesCPU.Seconds()/plainCPU.Seconds(), "aes/plain-cpu")
				b.ReportMetric(aesCPU.Seconds()/sameCPU.Seconds(), "aes/same-cpu")
				b.ReportMetric(aesCPU.Seconds()/szCPU.Seconds(), "aes/7zz-cpu")
			}
		})
	}
}

// BenchmarkSmallEntryAB writes a 10 KB AES-256 entry (a typical attachment
// of an encrypt-class mail, where the key derivation weighs most) with the
// Go and with the assembly key derivation alternately in each iteration and
// reports each one's thread CPU time and their ratio.
func BenchmarkSmallEntryAB(b *testing.B) {
	if !aeszip.SetSHANI(true) {
		b.Skip("no SHA-NI")
	}
	defer aeszip.SetSHANI(true)
	data, err := io.ReadAll(newTextReader(10 << 10))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu [2]time.Duration
	for b.Loop() {
		for i, asm := range []bool{false, true} {
			aeszip.SetSHANI(asm)
			t0 := aeszip.ThreadCPU()
			writeEncrypted(b, data, aeszip.AES256, dir)
			cpu[i] += aeszip.ThreadCPU() - t0
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(cpu[0].Microseconds())/n, "generic-cpu-µs")
	b.ReportMetric(float64(cpu[1].Microseconds())/n, "asm-cpu-µs")
	b.ReportMetric(cpu[1].Seconds()/cpu[0].Seconds(), "asm/generic")
}
