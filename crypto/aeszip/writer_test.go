package aeszip_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

func TestOptionsValidated(t *testing.T) {
	for _, opt := range []aeszip.Options{
		{},
		{Password: "パスワード"},
		{Password: "tab\there"},
		{Password: "ok", Encryption: 7},
		{Password: "ok", Names: 7},
		{Password: "ok", Level: 10},
	} {
		if _, err := aeszip.NewWriter(io.Discard, opt); err == nil {
			t.Errorf("NewWriter accepted %v", opt)
		}
	}
	if _, err := aeszip.NewWriter(io.Discard, aeszip.Options{}); !errors.Is(err, aeszip.ErrNoPassword) {
		t.Errorf("empty password: %v", err)
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	opt := aeszip.Options{Password: testPassword, Encryption: aeszip.ZipCrypto}
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	logger.Info("options", "opt", opt)
	opt.Logger = logger
	zw, err := aeszip.NewWriter(io.Discard, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(opt), fmt.Sprintf("%+v %#v %s", opt, opt, opt), logged.String(),
		fmt.Sprintf("%v %+v %#v", zw, zw, zw)} {
		if strings.Contains(s, testPassword) {
			t.Errorf("password printed: %s", s)
		}
	}
	if !strings.Contains(logged.String(), "ZipCrypto") || !strings.Contains(logged.String(), "level=WARN") {
		t.Errorf("no ZipCrypto warning logged: %s", logged.String())
	}
}

// TestFailedReadLeavesArchiveUsable adds an entry whose reader fails
// midway; the archive must still be complete without it.
func TestFailedReadLeavesArchiveUsable(t *testing.T) {
	var buf bytes.Buffer
	zw, err := aeszip.NewWriter(&buf, aeszip.Options{Password: testPassword, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Add("first.txt", time.Now(), strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	broken := io.MultiReader(strings.NewReader(strings.Repeat("x", 100000)), iotest.ErrReader(boom))
	if _, err := zw.Add("broken.txt", time.Now(), broken); !errors.Is(err, boom) {
		t.Fatalf("Add(broken) = %v, want boom", err)
	}
	if _, err := zw.Add("last.txt", time.Now(), strings.NewReader("three")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	if _, err := zw.Add("late.txt", time.Now(), strings.NewReader("")); err == nil {
		t.Error("Add after Close succeeded")
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range zr.File {
		var b bytes.Buffer
		if _, err := aeszip.Decrypt(f, testPassword, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Name+"="+b.String())
	}
	if strings.Join(got, ",") != "first.txt=one,last.txt=three" {
		t.Errorf("entries %v", got)
	}
}

// TestWriteErrorIsSticky makes the destination fail: the writer must
// report it and refuse further use rather than produce a corrupt archive.
func TestWriteErrorIsSticky(t *testing.T) {
	w := &failingWriter{limit: 200}
	zw, err := aeszip.NewWriter(w, aeszip.Options{Password: testPassword, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = zw.Add("a.bin", time.Now(), bytes.NewReader(binaryData(100000)))
	if err == nil {
		// archive/zip buffers; the failure may surface on a later call.
		_, err = zw.Add("b.bin", time.Now(), bytes.NewReader(binaryData(100000)))
	}
	if err == nil {
		t.Fatal("write failure not reported")
	}
	if _, err2 := zw.Add("c.bin", time.Now(), strings.NewReader("c")); err2 == nil {
		t.Error("Add after a write failure succeeded")
	}
	if err := zw.Close(); err == nil {
		t.Error("Close after a write failure succeeded")
	}
}

type failingWriter struct{ n, limit int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.limit {
		return 0, errors.New("disk full")
	}
	f.n += len(p)
	return len(p), nil
}

func TestTempFileRemoved(t *testing.T) {
	dir := t.TempDir()
	zw, err := aeszip.NewWriter(io.Discard, aeszip.Options{Password: testPassword, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Add("a.txt", time.Now(), strings.NewReader("secret plaintext")); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("temp file visible while writing: %v", left)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	left, _ = os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}
