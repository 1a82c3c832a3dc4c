package rewrite

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"testing"
)

// TestEncryptReleasesFiles: success and every error path close their
// temporary files (counted in /proc/self/fd).
func TestEncryptReleasesFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd")
	}
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	inputs := [][]byte{
		readFixture(t, "enc-japanese.eml"),
		readFixture(t, "enc-noattach.eml"),
		readFixture(t, "enc-signed.eml"),
		[]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\n\r\nabc\r\n"),
	}
	before := count()
	for i := 0; i < 5; i++ {
		for _, in := range inputs {
			var out bytes.Buffer
			_, _ = EncryptAttachments(&out, bytes.NewReader(in), testOptions())
		}
	}
	if after := count(); after != before {
		t.Errorf("open files: %d before, %d after", before, after)
	}
}

// TestReplaceReleasesFiles: Close and every error path release the
// temporary file.
func TestReplaceReleasesFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd")
	}
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	inputs := [][]byte{
		readFixture(t, "enc-japanese.eml"),
		readFixture(t, "enc-noattach.eml"),
		readFixture(t, "enc-signed.eml"),
		[]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\n\r\nabc\r\n"),
	}
	drain := func(_ AttachmentFile, r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
	failing := func(AttachmentFile, io.Reader) error { return io.ErrShortWrite }
	before := count()
	for i := 0; i < 5; i++ {
		for _, in := range inputs {
			r, err := ReplaceAttachments(bytes.NewReader(in), replaceOptions(drain))
			if err == nil {
				_ = r.Write(io.Discard, "x")
				_ = r.Close()
			}
			if _, err := ReplaceAttachments(bytes.NewReader(in), replaceOptions(failing)); err == nil {
				t.Error("a failing Store succeeded")
			}
		}
	}
	if after := count(); after != before {
		t.Errorf("open files: %d before, %d after", before, after)
	}
}
