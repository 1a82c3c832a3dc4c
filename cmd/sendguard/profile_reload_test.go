package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// Profiles follow a reload, and the zipcrypto profile end to end: a
// partner's AES zips, then `encrypt.domains` switched to zipcrypto and put
// in force by `sendguard reload` without a restart; the next mail leaves
// over real SMTP with a ZipCrypto zip that opens with the password the
// sender was sent, in the project's reader, 7-Zip and bsdtar.
func TestProfileReloadZipCrypto(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, `partners:
  - {name: 株式会社ジップ商事, domains: [zipco.test], profile: aes_zip}
`)
	base, err := readFile(in.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	in.start()
	pid := in.cmd.Process.Pid
	send := func(from, id string) (zipBytes []byte, password string) {
		t.Helper()
		if err := sendMail(in.smtp, from, []string{"buyer@zipco.test"}, attachmentMail(from, "buyer@zipco.test", id)); err != nil {
			t.Fatal(err)
		}
		m := waitMail(t, sk, from)
		pw := passwordRE.FindStringSubmatch(waitNotice(t, sk, from, "Password:"))
		if pw == nil {
			t.Fatalf("no password in the notice to %s", from)
		}
		return zipOf(t, m.Data), pw[1]
	}
	methods := func(z []byte) (aes, zipCrypto int) {
		t.Helper()
		zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			switch {
			case f.Method == 99:
				aes++
			case f.Flags&1 != 0: // encrypted, traditional PKWARE
				zipCrypto++
			default:
				t.Fatalf("%s is not encrypted (method %d, flags %#x)", f.Name, f.Method, f.Flags)
			}
		}
		return aes, zipCrypto
	}

	z, _ := send("alice@example.com", "zc1")
	if aes, zc := methods(z); aes != 1 || zc != 0 {
		t.Fatalf("before the reload: %d AES and %d ZipCrypto entries, want the partner's aes_zip", aes, zc)
	}

	// encrypt.domains overrides the partner's profile once reloaded.
	writeFile(in.cfgPath, base+"encrypt:\n  domains:\n    zipco.test: zipcrypto\n")
	out, err := in.cli("reload")
	if err != nil || !strings.Contains(out, "encrypt.domains") || strings.Contains(out, "restart needed") {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	z, pw := send("carol@example.com", "zc2")
	if aes, zc := methods(z); aes != 0 || zc != 1 {
		t.Fatalf("after the reload: %d AES and %d ZipCrypto entries, want zipcrypto", aes, zc)
	}
	if in.cmd.Process.Pid != pid {
		t.Fatal("the gateway restarted")
	}
	if bytes.Contains(z, []byte("A-100")) {
		t.Fatal("the CSV is in the zip in clear")
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	f := zr.File[0]
	if rc, err := aeszip.Open(f, "wrong-password"); err == nil {
		// ZipCrypto's check byte lets 1 in 256 wrong passwords through;
		// the CRC then refuses the content.
		got, err := io.ReadAll(rc)
		rc.Close()
		if err == nil || string(got) == csvBody {
			t.Fatal("the zip opened with a wrong password")
		}
	}
	rc, err := aeszip.Open(f, pw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != csvBody {
		t.Fatalf("unzipped %q, %v", got, err)
	}
	if got := unzipWith(t, z, pw); got != csvBody { // 7-Zip (skips where absent outside CI)
		t.Fatalf("7z unzipped %q", got)
	}
	if got := bsdtarUnzip(t, z, pw); got != csvBody {
		t.Fatalf("bsdtar unzipped %q", got)
	}
}

// bsdtarUnzip extracts quote.csv with libarchive's bsdtar, and checks a
// wrong password extracts nothing.
func bsdtarUnzip(t testing.TB, z []byte, pw string) string {
	t.Helper()
	bin, err := exec.LookPath("bsdtar")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("bsdtar is not installed (scripts/test.sh installs libarchive-tools)")
		}
		t.Skip("bsdtar not installed")
	}
	dir := t.TempDir()
	zp := filepath.Join(dir, "a.zip")
	if err := os.WriteFile(zp, z, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	os.Mkdir(bad, 0o700)
	if out, err := exec.Command(bin, "-x", "-f", zp, "--passphrase", "wrong-password", "-C", bad).CombinedOutput(); err == nil {
		if b, rerr := os.ReadFile(filepath.Join(bad, "quote.csv")); rerr == nil && string(b) == csvBody {
			t.Fatalf("bsdtar extracted with a wrong password:\n%s", out)
		}
	}
	good := filepath.Join(dir, "good")
	os.Mkdir(good, 0o700)
	if out, err := exec.Command(bin, "-x", "-f", zp, "--passphrase", pw, "-C", good).CombinedOutput(); err != nil {
		t.Fatalf("bsdtar with the notified password: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(good, "quote.csv"))
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("quote.csv not in the zip")
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
