package rewrite

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/emersion/go-message"
)

// FuzzReplaceAttachments: no panics; the result agrees with
// EncryptAttachments on the same input (same error class, or the same
// files, and its output with the zip part cut out); Store received the
// bytes of the zip's entries, of Files' sizes, each the attachment's
// decoded bytes (checkAttachmentBytes); the output parses with go-message.
func FuzzReplaceAttachments(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\npre\n--b\nContent-Type: multipart/alternative; boundary=c\n\n--c\nContent-Disposition: attachment\n\nx\n--c--\n--b\n\nbody\n--b--\nepi"))
	f.Add([]byte("Content-Type: application/pdf\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc"))
	sentinels := []error{ErrMalformed, ErrHeaderTooLarge, ErrNoAttachments, ErrSignedOrEncrypted, ErrUnknownEncoding}
	f.Fuzz(func(t *testing.T, in []byte) {
		rec := &recorder{}
		r, err := ReplaceAttachments(bytes.NewReader(in), replaceOptions(rec.store))
		opt := testOptions()
		opt.Zip.Level = 1
		var enc bytes.Buffer
		res, encErr := EncryptAttachments(&enc, bytes.NewReader(in), opt)
		if (err == nil) != (encErr == nil) {
			t.Fatalf("replace: %v; encrypt: %v", err, encErr)
		}
		if err != nil {
			if r != nil {
				t.Fatal("result with an error")
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != errors.Is(encErr, s) {
					t.Fatalf("replace: %v; encrypt: %v", err, encErr)
				}
			}
			return
		}
		defer r.Close()
		files := r.Files()
		if len(files) == 0 || len(files) != len(rec.files) || len(files) != len(res.Files) {
			t.Fatalf("%d files, %d stored, %d zipped", len(files), len(rec.files), len(res.Files))
		}
		entries := zipEntries(t, enc.Bytes())
		if len(entries) != len(files) {
			t.Fatalf("%d files, %d in the zip", len(files), len(entries))
		}
		stored := make([][]byte, len(files))
		for i, fl := range files {
			got := rec.files[i]
			stored[i] = got.data
			if fl != res.Files[i] || got.Name != fl.Name || got.ContentType != fl.ContentType ||
				int64(len(got.data)) != fl.Size || !bytes.Equal(got.data, entries[i]) {
				t.Fatalf("file %d: stored %+v (%d bytes), reported %+v, zipped %+v (%d bytes)",
					i, got.AttachmentFile, len(got.data), fl, res.Files[i], len(entries[i]))
			}
		}
		checkAttachmentBytes(t, in, stored)
		want, note := encryptedWithoutZip(t, enc.Bytes(), r, opt, res)
		var out bytes.Buffer
		if err := r.Write(&out, note); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("output differs from the encrypted one without its zip:\n%q\n%q", out.Bytes(), want)
		}
		out.Reset()
		if err := r.Write(&out, noteA); err != nil {
			t.Fatal(err)
		}
		e, err := message.Read(bytes.NewReader(out.Bytes()))
		if err != nil && !message.IsUnknownCharset(err) {
			t.Fatalf("output does not parse: %v\n%q", err, out.Bytes())
		}
		mr := e.MultipartReader()
		if mr == nil {
			t.Fatal("output is not multipart")
		}
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("first part: %v", err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil || string(b) != withEOL(noteA, r.rw.top.eol) {
			t.Fatalf("first part %q (%v), want the note", b, err)
		}
	})
}
