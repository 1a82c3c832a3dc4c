package aeszip

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"strings"
	"testing"
)

func TestPBKDF2SameAsStdlib(t *testing.T) {
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
	f.Fuzz(func(t *testing.T, pw string, salt []byte, iter, n uint8) {
		it, kl := int(iter%8)+1, int(n%80)+1
		want, _ := pbkdf2.Key(sha1.New, pw, salt, it, kl)
		got, err := pbkdf2SHA1(pw, salt, it, kl)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%x, want %x (%v)", got, want, err)
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
	b.Run("aeszip", func(b *testing.B) {
		for b.Loop() {
			pbkdf2SHA1("Xk3-pw-abcdefgh", salt, pbkdf2Rounds, 66)
		}
	})
}
