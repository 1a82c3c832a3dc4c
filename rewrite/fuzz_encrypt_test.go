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
// success the output's top level parses with go-message, the zip
// part opens with the password and holds as many entries as reported, of
// the reported sizes, each the attachment's decoded bytes
// (checkAttachmentBytes).
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
		entries := zipEntries(t, out.Bytes())
		if len(entries) != len(res.Files) {
			t.Fatalf("zip has %d entries, result %d", len(entries), len(res.Files))
		}
		for i, b := range entries {
			if int64(len(b)) != res.Files[i].Size {
				t.Fatalf("entry %d has %d bytes, result says %d", i, len(b), res.Files[i].Size)
			}
		}
		checkAttachmentBytes(t, in, entries)
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

// zipEntries finds the top-level zip part of a rewritten message with
// go-message and returns its entries decrypted, in order.
func zipEntries(t *testing.T, out []byte) [][]byte {
	t.Helper()
	e, err := message.Read(bytes.NewReader(out))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatalf("output does not parse: %v\n%q", err, out)
	}
	// Only the top level is read: kept parts may themselves be broken
	// (a multipart go-message does not read, an undecodable body, a bad
	// charset), only the parts we generate must read.
	mr := e.MultipartReader()
	if mr == nil {
		t.Fatalf("output is not multipart\n%q", out)
	}
	var zipData []byte
	for zipData == nil {
		p, err := mr.NextPart()
		if err != nil && !(p != nil && (message.IsUnknownEncoding(err) || message.IsUnknownCharset(err))) {
			break // a kept part go-message cannot decode is still a part to step over
		}
		if ct, _, _ := p.Header.ContentType(); ct == "application/zip" {
			if zipData, err = io.ReadAll(p.Body); err != nil {
				t.Fatalf("zip part: %v", err)
			}
		}
	}
	if zipData == nil {
		t.Fatalf("no top-level zip part\n%q", out)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	var entries [][]byte
	for i, zf := range zr.File {
		var buf bytes.Buffer
		if _, err := aeszip.Decrypt(zf, testPassword, &buf); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		entries = append(entries, buf.Bytes())
	}
	return entries
}

// checkAttachmentBytes compares got (a message's attachments as a rewrite
// handed them on: zip entries or stored files) with the input's
// attachments read two other ways: as ReplaceAttachments' Store receives
// them, always, and as decodeAttachments reads them (go-message and the
// standard decoders), where that reading succeeds and finds as many
// attachments, on input with one kind of line ending (on fuzzed MIME it
// may split or classify differently; a CR before an LF delimiter line is
// content to it, part of the line ending to the rewrite).
func checkAttachmentBytes(t *testing.T, in []byte, got [][]byte) {
	t.Helper()
	rec := &recorder{}
	r, err := ReplaceAttachments(bytes.NewReader(in), replaceOptions(rec.store))
	if err != nil {
		t.Fatalf("replace fails where encrypt succeeds: %v", err)
	}
	r.Close()
	if len(rec.files) != len(got) {
		t.Fatalf("%d attachments, Store received %d", len(got), len(rec.files))
	}
	for i := range got {
		if !bytes.Equal(got[i], rec.files[i].data) {
			t.Fatalf("attachment %d: %d bytes, Store received %d other bytes", i, len(got[i]), len(rec.files[i].data))
		}
	}
	crlf := bytes.Count(in, []byte("\r\n"))
	if crlf != 0 && crlf != bytes.Count(in, []byte("\n")) {
		return
	}
	want, err := decodeAttachments(in)
	if err != nil || len(want) != len(got) {
		return
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("attachment %d: %d bytes, differing from the %d decoded independently", i, len(got[i]), len(want[i]))
		}
	}
}
