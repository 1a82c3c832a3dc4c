package dkim

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"github.com/sendguard/sendguard/internal/dkimtest"
)

var (
	rsaOnce sync.Once
	rsaKey  crypto.Signer
	rsaPEM  []byte
)

// testRSA generates one 2048-bit key for the package's tests (slow).
func testRSA(t testing.TB) (crypto.Signer, []byte) {
	rsaOnce.Do(func() {
		var err error
		rsaKey, rsaPEM, err = GenerateKey("rsa", 2048)
		if err != nil {
			panic(err)
		}
	})
	return rsaKey, rsaPEM
}

func writeKey(t testing.TB, pemData []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(p, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func record(t testing.TB, k crypto.Signer) string {
	t.Helper()
	v, err := RecordValue(k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fileOpener(t testing.TB, data []byte) Opener {
	t.Helper()
	p := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return func() (io.ReadCloser, error) { return os.Open(p) }
}

func readAll(t testing.TB, open Opener) []byte {
	t.Helper()
	r, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const testMsg = "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <taro@example.com>\r\n" +
	"To: <bob@partner.example.net>\r\n" +
	"Subject: quote\r\n" +
	"Date: Sun, 06 Dec 2026 01:00:00 +0900\r\n" +
	"Message-ID: <q1@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello,  \r\nthe quote follows.\r\n\r\n"

func TestSignVerifies(t *testing.T) {
	rk, rp := testRSA(t)
	ek, ep, err := GenerateKey("ed25519", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		pem  []byte
	}{{"rsa", rk, rp}, {"ed25519", ek, ep}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New([]Domain{{Name: "Example.COM.", Selector: "sg1", KeyFile: writeKey(t, tc.pem)}})
			if err != nil {
				t.Fatal(err)
			}
			open, extra, err := s.Wrap(fileOpener(t, []byte(testMsg)))
			if err != nil {
				t.Fatal(err)
			}
			out := readAll(t, open)
			if int64(len(out)-len(testMsg)) != extra || !bytes.HasSuffix(out, []byte(testMsg)) {
				t.Fatalf("wrapped message is not signature + original (extra %d, got %d more bytes)", extra, len(out)-len(testMsg))
			}
			if !bytes.HasPrefix(out, []byte("DKIM-Signature: ")) || !bytes.Contains(out, []byte("a="+tc.name+"-sha256")) {
				t.Fatalf("no %s signature in front:\n%s", tc.name, out[:extra])
			}
			recs := dkimtest.Records{"sg1._domainkey.example.com": record(t, tc.key)}
			if d := dkimtest.GoVerify(t, out, recs); len(d) != 1 || d[0] != "example.com" {
				t.Fatalf("go-msgauth verified %v", d)
			}
			if n := dkimtest.PyVerify(t, out, recs); n != 1 {
				t.Fatalf("python3-dkim verified %d signatures", n)
			}
			// A second read gives the same bytes (the opener is reusable
			// for each connection attempt).
			if again := readAll(t, open); !bytes.Equal(again, out) {
				t.Fatal("second read differs")
			}
			// A changed body no longer verifies: the test can fail.
			bad := bytes.Replace(out, []byte("the quote"), []byte("THE quote"), 1)
			vs, err := msgauth.VerifyWithOptions(bytes.NewReader(bad), &msgauth.VerifyOptions{
				LookupTXT: func(string) ([]string, error) { return []string{recs["sg1._domainkey.example.com"]}, nil }})
			if err != nil || len(vs) != 1 || vs[0].Err == nil {
				t.Fatalf("tampered body verified: %v %v", err, vs)
			}
		})
	}
}

func TestOversignedFromBreaksOnAddedField(t *testing.T) {
	_, ep, _ := GenerateKey("ed25519", 0)
	s, err := New([]Domain{{Name: "example.com", Selector: "s", KeyFile: writeKey(t, ep)}})
	if err != nil {
		t.Fatal(err)
	}
	open, _, err := s.Wrap(fileOpener(t, []byte(testMsg)))
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(t, open)
	k, _ := ParseKey(ep)
	rec := record(t, k)
	for _, added := range []string{"From: <ceo@example.com>\r\n", "Subject: urgent\r\n", "Cc: <x@evil.example>\r\n"} {
		forged := append([]byte(added), out...)
		vs, err := msgauth.VerifyWithOptions(bytes.NewReader(forged), &msgauth.VerifyOptions{LookupTXT: func(string) ([]string, error) { return []string{rec}, nil }})
		if err != nil || len(vs) != 1 || vs[0].Err == nil {
			t.Errorf("signature still verifies after adding %q", strings.TrimSpace(added))
		}
	}
}

func TestDomainSelection(t *testing.T) {
	_, ep, _ := GenerateKey("ed25519", 0)
	s, err := New([]Domain{{Name: "example.com", Selector: "s", KeyFile: writeKey(t, ep)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, want string }{
		{"<a@example.com>", "d=example.com"},
		{"Sales <a@mail.Sales.Example.com>", "d=example.com"}, // closest configured parent
		{"MAILER-DAEMON@gw.example.com", "d=example.com"},
		{"<a@example.com.evil.test>", ""},
		{"<a@notexample.com>", ""},
		{"", ""},
		{"not an address", ""},
	} {
		msg := "From: " + tc.from + "\r\nSubject: x\r\n\r\nbody\r\n"
		field, err := s.Signature(strings.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == "" && field != "" || tc.want != "" && !strings.Contains(field, tc.want+";") {
			t.Errorf("From %q: signature %q, want %q", tc.from, field, tc.want)
		}
	}
	// A header too large to sign is reported as such, not as an I/O error.
	huge := "From: <a@example.com>\r\nX-Big: " + strings.Repeat("x", maxHeaderBytes) + "\r\n\r\nbody\r\n"
	if _, err := s.Signature(strings.NewReader(huge)); !errors.Is(err, ErrUnsignable) {
		t.Errorf("huge header: %v", err)
	}
	// An unsigned message keeps its opener and size.
	orig := fileOpener(t, []byte("From: <a@other.test>\r\n\r\nx\r\n"))
	open, extra, err := s.Wrap(orig)
	if err != nil || extra != 0 || !bytes.Equal(readAll(t, open), []byte("From: <a@other.test>\r\n\r\nx\r\n")) {
		t.Fatalf("unconfigured domain changed: extra %d err %v", extra, err)
	}
}

func TestKeysRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	weakDER, _ := x509.MarshalPKCS8PrivateKey(weak)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	_, good := testRSA(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weak)})
	cases := []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing.pem"), "no such file"},
		{write("weak.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: weakDER}), 0o600), "RSA key of 1024 bits"},
		{write("weak1.pem", pkcs1, 0o600), "RSA key of 1024 bits"},
		{write("ec.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), 0o600), "RSA or Ed25519"},
		{write("cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), 0o600), "not a private key"},
		{write("junk.pem", []byte("hello"), 0o600), "no PEM"},
		{write("open.pem", good, 0o644), "readable by every user"},
		{dir, "not a regular file"},
	}
	for _, c := range cases {
		_, err := LoadKey(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("LoadKey(%s) = %v, want an error naming the file and %q", filepath.Base(c.path), err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY-----") {
			t.Errorf("error leaks key material: %v", err)
		}
	}
	if os.Geteuid() != 0 { // root reads any file
		p := write("noread.pem", good, 0o000)
		if _, err := LoadKey(p); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("unreadable key: %v", err)
		}
	}
	if _, err := LoadKey(write("ok.pem", good, 0o640)); err != nil {
		t.Errorf("0640 key refused: %v", err)
	}
	if _, err := LoadKey(write("ok1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
		Bytes: x509.MarshalPKCS1PrivateKey(mustRSA(t))}), 0o600)); err != nil {
		t.Errorf("PKCS #1 RSA key refused: %v", err)
	}

	// New reports every domain's problem at once.
	_, err := New([]Domain{
		{Name: "a.example", Selector: "s", KeyFile: cases[0].path},
		{Name: "b.example", Selector: "bad selector", KeyFile: cases[1].path},
		{Name: "c.example", Selector: "s", KeyFile: write("c.pem", good, 0o600), Headers: []string{"Subject"}},
	})
	for _, want := range []string{"a.example", "missing.pem", "b.example", "selector", "weak.pem", "c.example: signed headers must include From"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New error lacks %q: %v", want, err)
		}
	}
	if !errors.Is(err, ErrWeakKey) {
		t.Errorf("weak key not ErrWeakKey: %v", err)
	}
	if _, _, err := GenerateKey("rsa", 1024); !errors.Is(err, ErrWeakKey) {
		t.Errorf("keygen made a 1024-bit key: %v", err)
	}
}

func mustRSA(t testing.TB) *rsa.PrivateKey {
	k, _ := testRSA(t)
	return k.(*rsa.PrivateKey)
}

func TestZoneRecordSplitsLongStrings(t *testing.T) {
	k, _ := testRSA(t)
	v := record(t, k)
	z := ZoneRecord("Example.com.", "sg1", v)
	if !strings.HasPrefix(z, "sg1._domainkey.example.com. IN TXT ( \"v=DKIM1; k=rsa; p=") {
		t.Fatalf("record %s", z)
	}
	var joined strings.Builder
	for _, part := range strings.Split(z, "\"")[1:] {
		if part == " " || strings.HasPrefix(part, " )") {
			continue
		}
		if len(part) > 255 {
			t.Fatalf("TXT string of %d bytes", len(part))
		}
		joined.WriteString(part)
	}
	if joined.String() != v {
		t.Fatalf("split record does not join back to the value")
	}
}

// TestLargeMessageStreams signs a 20 MiB message and checks the body is
// never held in memory: allocations stay far below the message size.
func TestLargeMessageStreams(t *testing.T) {
	_, p := testRSA(t)
	s, err := New([]Domain{{Name: "example.com", Selector: "s", KeyFile: writeKey(t, p)}})
	if err != nil {
		t.Fatal(err)
	}
	const size = 20 << 20
	path := filepath.Join(t.TempDir(), "big.eml")
	f, _ := os.Create(path)
	fmt.Fprint(f, "From: <a@example.com>\r\nTo: <b@partner.example.net>\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n")
	line := strings.Repeat("0123456789abcdef", 4) + "\r\n"
	for n := 0; n < size; n += len(line) {
		f.WriteString(line)
	}
	f.Close()
	open := func() (io.ReadCloser, error) { return os.Open(path) }

	// Peak heap, sampled while signing and sending, with a tight GC
	// target so garbage does not hide what is retained. (go-msgauth's
	// relaxed canonicaliser allocates a copy of each write, so total
	// allocations track the size; only what is held matters.)
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	signed, extra, err := s.Wrap(open)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := signed()
	n, err := io.Copy(io.Discard, r)
	r.Close()
	took := time.Since(start)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if n != fi.Size()+extra {
		t.Fatalf("read %d bytes, want %d", n, fi.Size()+extra)
	}
	grew := int64(peak) - int64(base.HeapAlloc)
	t.Logf("20 MiB message: signed and read in %v; peak heap %d KiB above the baseline", took.Round(time.Millisecond), grew>>10)
	if grew > 10<<20 {
		t.Fatalf("signing a %d MiB message raised the heap by %d KiB: the body is being buffered", size>>20, grew>>10)
	}
}
