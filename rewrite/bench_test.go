package rewrite

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// Each benchmark runs the rewrite and a plain io.Copy of the same message
// into the same kind of destination, so the two can be compared as a ratio
// within one run:
//
//	go test ./rewrite -run '^$' -bench . -benchtime 20x

func benchCopy(b *testing.B, msg []byte) {
	var dst bytes.Buffer
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		dst.Reset()
		if _, err := io.Copy(&dst, bytes.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBcc(b *testing.B) {
	// The 22-address folded To plus a 1 MiB body.
	msg := append(readFixture(b, "bcc-folded.eml"), bytes.Repeat([]byte(strings.Repeat("x", 76)+"\r\n"), 1<<20/78)...)
	b.Run("copy", func(b *testing.B) { benchCopy(b, msg) })
	b.Run("bcc", func(b *testing.B) {
		var dst bytes.Buffer
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			dst.Reset()
			if _, err := Bcc(&dst, bytes.NewReader(msg), isExternal); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncryptAttachments(b *testing.B) {
	// A 4 MiB incompressible attachment: the worst case for deflate.
	msg, err := io.ReadAll(largeMessage(4 << 20))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("copy", func(b *testing.B) { benchCopy(b, msg) })
	// The zip alone over the decoded attachment: the floor set by
	// crypto/aeszip (deflate, AES, HMAC).
	raw, err := io.ReadAll(newPRNG(4 << 20))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("aeszip", func(b *testing.B) {
		var dst bytes.Buffer
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			dst.Reset()
			zw, err := aeszip.NewWriter(&dst, aeszip.Options{Password: testPassword})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := zw.Add("big.bin", time.Time{}, bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encrypt", func(b *testing.B) {
		var dst bytes.Buffer
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			dst.Reset()
			if _, err := EncryptAttachments(&dst, bytes.NewReader(msg), testOptions()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkReplaceAttachments(b *testing.B) {
	// The 4 MiB attachment of BenchmarkEncryptAttachments, stored to
	// io.Discard: what remains is decoding, hashing and the spooled body.
	msg, err := io.ReadAll(largeMessage(4 << 20))
	if err != nil {
		b.Fatal(err)
	}
	discard := func(_ AttachmentFile, r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
	b.Run("copy", func(b *testing.B) { benchCopy(b, msg) })
	b.Run("replace", func(b *testing.B) {
		var dst bytes.Buffer
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			dst.Reset()
			r, err := ReplaceAttachments(bytes.NewReader(msg), replaceOptions(discard))
			if err != nil {
				b.Fatal(err)
			}
			if err := r.Write(&dst, noteA); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
	// One more recipient's copy of an already parsed message (the typical
	// body and note, not the attachment, is written).
	b.Run("write", func(b *testing.B) {
		r, err := ReplaceAttachments(bytes.NewReader(readFixture(b, "enc-nested.eml")), replaceOptions(discard))
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		var dst bytes.Buffer
		for b.Loop() {
			dst.Reset()
			if err := r.Write(&dst, noteA); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(dst.Len()))
	})
}
