package rewrite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/emersion/go-message/textproto"
)

func addFixtureSeeds(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, "*.eml"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("To: a@b.jp\n\nx"))
	f.Add([]byte("To: g: a@b.jp, (c) <d@example.com>;\r\nCc: \"q\\\"\" <e@f>\r\n\r\n"))
}

// FuzzBcc: no panics; on success or ErrFieldKept the output parses and
// names no external address that was reported moved; on other errors
// nothing was written.
func FuzzBcc(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		res, err := Bcc(&out, bytes.NewReader(in), isExternal)
		if err != nil && !errors.Is(err, ErrFieldKept) {
			if out.Len() != 0 && (errors.Is(err, ErrMalformed) || errors.Is(err, ErrHeaderTooLarge)) {
				t.Fatalf("header error %v after writing %d bytes", err, out.Len())
			}
			return
		}
		for _, a := range res.Moved {
			if !isExternal(a) {
				t.Fatalf("moved internal %q", a)
			}
		}
		// The output header must parse wherever the input header did.
		if _, err := textproto.ReadHeader(bufioReader(in)); err == nil {
			if _, err := textproto.ReadHeader(bufioReader(out.Bytes())); err != nil {
				t.Fatalf("output header does not parse: %v\n%q", err, out.Bytes())
			}
		}
		// A second pass moves nothing more: every external mailbox is gone
		// from the fields that were rewritten.
		if err == nil {
			var again bytes.Buffer
			res2, err2 := Bcc(&again, bytes.NewReader(out.Bytes()), isExternal)
			if err2 == nil && len(res2.Moved) != 0 {
				t.Fatalf("second pass moved %v\n%q", res2.Moved, out.Bytes())
			}
		}
	})
}
