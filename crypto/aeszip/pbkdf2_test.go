package aeszip

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

type pbkdf2Impl struct {
	name string
	f    func(string, []byte, int, int) ([]byte, error)
}

// pbkdf2Impls are the derivations this machine can run: the Go one always,
// the assembly ones (pbkdf2_kernels_*_test.go) where the CPU has them.
func pbkdf2Impls(tb testing.TB) []pbkdf2Impl {
	impls := append([]pbkdf2Impl{{"generic", pbkdf2SHA1Generic}}, asmImpls()...)
	if len(impls) == 1 {
		tb.Logf("no assembly derivation here: only the Go one is tested")
	}
	return impls
}

func TestPBKDF2SameAsStdlib(t *testing.T) {
	for _, impl := range pbkdf2Impls(t) {
		t.Run(impl.name, func(t *testing.T) { testPBKDF2SameAsStdlib(t, impl.f) })
	}
}

func testPBKDF2SameAsStdlib(t *testing.T, pbkdf2SHA1 func(string, []byte, int, int) ([]byte, error)) {
	for _, pw := range []string{"", "a", "Xk3-pw-abcdefgh", "パスワード", strings.Repeat("p", 64), strings.Repeat("q", 65), strings.Repeat("長", 40)} {
		for _, salt := range [][]byte{nil, []byte("0123456789abcdef"), bytes.Repeat([]byte{0xff}, 100)} {
			for _, iter := range []int{1, 2, 1000} {
				for _, n := range []int{1, 20, 21, 66} {
					want, err := pbkdf2.Key(sha1.New, pw, salt, iter, n)
					if err != nil {
						t.Fatal(err)
					}
					got, err := pbkdf2SHA1(pw, salt, iter, n)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("pw %q salt %x iter %d len %d: %x, want %x", pw, salt, iter, n, got, want)
					}
				}
			}
		}
	}
	// RFC 6070 test vector 2.
	got, _ := pbkdf2SHA1("password", []byte("salt"), 2, 20)
	if want := "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"; string(hexs(got)) != want {
		t.Fatalf("RFC 6070: %x", got)
	}
}

func hexs(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}

func FuzzPBKDF2(f *testing.F) {
	f.Add("pw", []byte("salt"), uint8(3), uint8(66))
	impls := pbkdf2Impls(f)
	f.Fuzz(func(t *testing.T, pw string, salt []byte, iter, n uint8) {
		it, kl := int(iter%8)+1, int(n%80)+1
		want, _ := pbkdf2.Key(sha1.New, pw, salt, it, kl)
		for _, impl := range impls {
			got, err := impl.f(pw, salt, it, kl)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: %x, want %x (%v)", impl.name, got, want, err)
			}
		}
	})
}

// BenchmarkPBKDF2 compares the WinZip key derivation (1,000 rounds, 66
// bytes) with crypto/pbkdf2 in the same run.
func BenchmarkPBKDF2(b *testing.B) {
	salt := []byte("0123456789abcdef")
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			pbkdf2.Key(sha1.New, "Xk3-pw-abcdefgh", salt, pbkdf2Rounds, 66)
		}
	})
	for _, impl := range pbkdf2Impls(b) {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				impl.f("Xk3-pw-abcdefgh", salt, pbkdf2Rounds, 66)
			}
		})
	}
}

// TestPBKDF2Random compares random passwords (up to twice the block size),
// salts, round counts and lengths with crypto/pbkdf2.
func TestPBKDF2Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	impls := pbkdf2Impls(t)
	rounds := []int{1, 2, 3, 4, 5, 17, 64, 999, 1000}
	n := 400
	if testing.Short() {
		n = 50
	}
	for i := range n {
		pw := make([]byte, rng.IntN(130))
		for j := range pw {
			pw[j] = byte(rng.Uint32())
		}
		salt := make([]byte, rng.IntN(40))
		for j := range salt {
			salt[j] = byte(rng.Uint32())
		}
		iter := rounds[i%len(rounds)]
		kl := 1 + rng.IntN(100)
		want, err := pbkdf2.Key(sha1.New, string(pw), salt, iter, kl)
		if err != nil {
			t.Fatal(err)
		}
		for _, impl := range impls {
			got, err := impl.f(string(pw), salt, iter, kl)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: pw %x salt %x iter %d len %d: %x, want %x (%v)", impl.name, pw, salt, iter, kl, got, want, err)
			}
		}
	}
}

// TestPBKDF2KeyLengths covers every output length up to 5 blocks, so both
// a spare chain and whole pairs are cut correctly.
func TestPBKDF2KeyLengths(t *testing.T) {
	for _, impl := range pbkdf2Impls(t) {
		for kl := 1; kl <= 100; kl++ {
			for _, iter := range []int{1, 2, 7} {
				want, _ := pbkdf2.Key(sha1.New, "pw", []byte("salt"), iter, kl)
				got, err := impl.f("pw", []byte("salt"), iter, kl)
				if err != nil || !bytes.Equal(got, want) || len(got) != kl {
					t.Fatalf("%s: len %d iter %d: %x, want %x (%v)", impl.name, kl, iter, got, want, err)
				}
			}
		}
	}
}

func TestPBKDF2Dispatch(t *testing.T) {
	if runtime.GOARCH == "amd64" && !useSHANI {
		t.Logf("amd64 without SHA-NI: the Go derivation is used")
	}
	if _, err := pbkdf2SHA1("pw", nil, 0, 20); err == nil {
		t.Fatal("0 rounds accepted")
	}
	if _, err := pbkdf2SHA1("pw", nil, 1, 0); err == nil {
		t.Fatal("0 bytes accepted")
	}
}

// BenchmarkPBKDF2AB runs the Go and the assembly derivations alternately
// in each iteration and reports each one's thread CPU time and its ratio to
// the Go one's.
func BenchmarkPBKDF2AB(b *testing.B) {
	impls := pbkdf2Impls(b)
	if len(impls) < 2 {
		b.Skip("no SHA-NI")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	salt := []byte("0123456789abcdef")
	cpu := make([]time.Duration, len(impls))
	for b.Loop() {
		for i, impl := range impls {
			t0 := threadCPU()
			impl.f("Xk3-pw-abcdefgh", salt, pbkdf2Rounds, 66)
			cpu[i] += threadCPU() - t0
		}
	}
	n := float64(b.N)
	for i, impl := range impls {
		b.ReportMetric(float64(cpu[i].Microseconds())/n, impl.name+"-cpu-µs")
		if i > 0 {
			b.ReportMetric(cpu[i].Seconds()/cpu[0].Seconds(), impl.name+"/generic")
		}
	}
}
