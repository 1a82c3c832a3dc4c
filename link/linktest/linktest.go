// Package linktest is the conformance suite of link.Storage: every
// implementation (the bbolt *link.Store, link/linkpg) runs it unchanged.
package linktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/internal/testclock"
	"github.com/sendguard/sendguard/link"
)

// Opener makes two stores on one backing store, as two nodes of a
// cluster see it, both with opts (the suite sets the clock and limits).
type Opener func(t *testing.T, opts link.Options) (a, b link.Storage)

// Start is the suite's clock start.
var Start = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	a, b  link.Storage
	clock *testclock.Clock
	seq   int
}

const retention = 48 * time.Hour

func newEnv(t *testing.T, open Opener) *env {
	t.Helper()
	clock := testclock.New(Start)
	a, b := open(t, link.Options{Now: clock.Now, Retention: retention, CodeTries: 5, CodeRequests: 5,
		CodeWindow: time.Hour, CodeTTL: 10 * time.Minute})
	return &env{t: t, a: a, b: b, clock: clock}
}

// Content is file n's test content of size bytes.
func Content(n, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + n*13 + i/1000)
	}
	return b
}

// big spans several chunks of any backend (linkpg's are 256 KiB).
const big = 700<<10 + 123

func (e *env) pkg(maxDownloads int, rcpts ...string) link.Package {
	e.seq++
	if len(rcpts) == 0 {
		rcpts = []string{"bob@example.net", "carol@example.org"}
	}
	return link.Package{
		MessageID: fmt.Sprintf("<m%d@example.com>", e.seq), Sender: "Alice <alice@example.com>",
		Recipients: rcpts, Subject: "Quarterly figures", Expires: e.clock.Now().Add(24 * time.Hour),
		MaxDownloads: maxDownloads,
		Files: []link.FileIn{
			{Name: "figures.xlsx", Type: "application/vnd.ms-excel", Reader: bytes.NewReader(Content(0, big))},
			{Name: "../notes.txt", Type: "text/plain; charset=utf-8", Reader: bytes.NewReader(Content(1, 10))},
		},
	}
}

func (e *env) create(s link.Storage, p link.Package) *link.Created {
	e.t.Helper()
	c, err := s.Create(context.Background(), p)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) download(s link.Storage, h token.Hash, n int) ([]byte, link.File, error) {
	fr, err := s.OpenFile(context.Background(), h, n, link.Client{IP: "192.0.2.7", UserAgent: "test/1"})
	if err != nil {
		return nil, link.File{}, err
	}
	defer fr.Close()
	b, err := io.ReadAll(fr)
	return b, fr.File, err
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"CreateOpenDownloadLog", testDownload},
		{"CreateRefusedLeavesNothing", testCreateRefused},
		{"Codes", testCodes},
		{"CodeRateLimit", testCodeRateLimit},
		{"Revoke", testRevoke},
		{"ExpiryAndPurge", testExpiry},
		{"TwoNodesVerifyOnce", testRaceVerify},
		{"TwoNodesDownloadLimit", testRaceDownload},
		{"TwoNodesRevokeOnce", testRaceRevoke},
		{"TwoNodesCodeLimit", testRaceIssue},
		{"TwoNodesPurge", testRacePurge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newEnv(t, open)) })
	}
}

func testDownload(t *testing.T, e *env) {
	ctx := context.Background()
	p := e.pkg(2)
	c := e.create(e.a, p)
	if len(c.Links) != 2 || c.Links[0].Recipient != "bob@example.net" || len(c.Files) != 2 {
		t.Fatalf("created %+v", c)
	}
	if c.Files[0].Size != big || c.Files[1].Name != "notes.txt" || c.Files[1].Type != "text/plain" {
		t.Fatalf("files %+v", c.Files)
	}
	for _, s := range []link.Storage{e.a, e.b} {
		a, err := s.Resolve(ctx, c.Links[1].Token.Hash())
		if err != nil || a.Role != link.RoleRecipient || a.Recipient != "carol@example.org" || a.Info.ID != c.ID ||
			a.Info.Sender != "alice@example.com" || a.Info.Status(e.clock.Now()) != link.StatusActive {
			t.Fatalf("resolve: %+v, %v", a, err)
		}
		a, err = s.Resolve(ctx, c.RevokeToken.Hash())
		if err != nil || a.Role != link.RoleSender {
			t.Fatalf("resolve sender: %+v, %v", a, err)
		}
	}
	unknown, _ := token.New()
	_, err := e.b.Resolve(ctx, unknown.Hash())
	wantErr(t, "unknown token", err, link.ErrNotFound)
	_, err = e.b.Get(ctx, strings.Repeat("0", 32))
	wantErr(t, "unknown package", err, link.ErrNotFound)

	// Made on a, downloaded through b.
	h := c.Links[0].Token.Hash()
	got, f, err := e.download(e.b, h, 0)
	if err != nil || !bytes.Equal(got, Content(0, big)) || f.Downloads != 1 {
		t.Fatalf("download: %d bytes, %+v, %v", len(got), f, err)
	}
	// Random access within the big file.
	fr, err := e.a.OpenFile(ctx, c.Links[1].Token.Hash(), 0, link.Client{})
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 5000)
	if _, err := fr.Seek(300<<10-2000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(fr, part); err != nil || !bytes.Equal(part, Content(0, big)[300<<10-2000:300<<10+3000]) {
		t.Fatalf("seek and read: %v", err)
	}
	fr.Close()
	_, _, err = e.download(e.a, h, 0)
	wantErr(t, "third download of a file limited to 2", err, link.ErrExhausted)
	_, _, err = e.download(e.a, h, 2)
	wantErr(t, "no such file", err, link.ErrNoFile)
	_, _, err = e.download(e.a, c.RevokeToken.Hash(), 0)
	wantErr(t, "download with the sender's token", err, link.ErrWrongRole)
	for range 2 {
		if got, _, err := e.download(e.b, h, 1); err != nil || !bytes.Equal(got, Content(1, 10)) {
			t.Fatalf("small file: %q, %v", got, err)
		}
	}
	info, err := e.a.Get(ctx, c.ID)
	if err != nil || info.Status(e.clock.Now()) != link.StatusExhausted || info.Files[0].Downloads != 2 {
		t.Fatalf("after downloads: %+v, %v", info, err)
	}
	log, err := e.a.PackageLog(ctx, c.ID)
	if err != nil || len(log) != 4 {
		t.Fatalf("log: %+v, %v", log, err)
	}
	if d := log[0]; d.Recipient != "bob@example.net" || d.File != 0 || d.FileName != "figures.xlsx" ||
		d.IP != "192.0.2.7" || d.UserAgent != "test/1" || d.PackageID != c.ID || !d.Time.Equal(e.clock.Now()) {
		t.Fatalf("log entry %+v", d)
	}
	if log[1].Recipient != "carol@example.org" {
		t.Fatalf("log order %+v", log)
	}
	// A second package of the same message.
	p2 := e.pkg(0)
	p2.MessageID = p.MessageID
	e.clock.Advance(time.Second)
	c2 := e.create(e.b, p2)
	if _, _, err := e.download(e.a, c2.Links[0].Token.Hash(), 1); err != nil {
		t.Fatal(err)
	}
	infos, err := e.b.ByMessage(ctx, p.MessageID)
	if err != nil || len(infos) != 2 {
		t.Fatalf("by message: %d, %v", len(infos), err)
	}
	ids := map[string]bool{infos[0].ID: true, infos[1].ID: true}
	if !ids[c.ID] || !ids[c2.ID] {
		t.Fatalf("by message: %v", ids)
	}
	if all, err := e.a.Log(ctx, p.MessageID); err != nil || len(all) != 5 {
		t.Fatalf("message log: %d, %v", len(all), err)
	}
	if none, err := e.a.ByMessage(ctx, "<other@example.com>"); err != nil || len(none) != 0 {
		t.Fatalf("other message: %v, %v", none, err)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("source broke")
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

func testCreateRefused(t *testing.T, e *env) {
	ctx := context.Background()
	p := e.pkg(0)
	p.Recipients = nil
	_, err := e.a.Create(ctx, p)
	wantErr(t, "no recipients", err, link.ErrInvalid)
	p = e.pkg(0)
	p.Expires = e.clock.Now()
	_, err = e.a.Create(ctx, p)
	wantErr(t, "expiry now", err, link.ErrInvalid)
	p = e.pkg(0)
	p.Files[1].Reader = &failingReader{n: 300 << 10}
	if _, err := e.a.Create(ctx, p); err == nil {
		t.Fatal("a file that fails to read was stored")
	}
	if infos, err := e.b.ByMessage(ctx, p.MessageID); err != nil || len(infos) != 0 {
		t.Fatalf("failed create left %d packages, %v", len(infos), err)
	}
}

func testCodes(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.create(e.a, e.pkg(0))
	h := c.Links[0].Token.Hash()
	_, err := e.b.VerifyCode(ctx, h, "12345678", link.Client{})
	wantErr(t, "verify before any code", err, link.ErrNoCode)
	_, _, err = e.a.IssueCode(ctx, c.RevokeToken.Hash(), link.Client{})
	wantErr(t, "code for the sender's token", err, link.ErrWrongRole)
	code, a, err := e.a.IssueCode(ctx, h, link.Client{IP: "192.0.2.1"})
	if err != nil || len(code) != link.CodeDigits || a.Recipient != "bob@example.net" {
		t.Fatalf("issue: %q, %+v, %v", code, a, err)
	}
	_, err = e.b.VerifyCode(ctx, h, "abc", link.Client{})
	wantErr(t, "malformed", err, link.ErrCodeMalformed)
	wrong := wrongCode(code)
	for left := 4; left > 0; left-- {
		_, err := e.b.VerifyCode(ctx, h, wrong, link.Client{})
		var we *link.WrongCodeError
		if !errors.As(err, &we) || we.Left != left {
			t.Fatalf("wrong code with %d left: %v", left, err)
		}
	}
	_, err = e.a.VerifyCode(ctx, h, wrong, link.Client{})
	wantErr(t, "fifth wrong code", err, link.ErrCodeLocked)
	_, err = e.b.VerifyCode(ctx, h, code, link.Client{})
	wantErr(t, "right code after the lock", err, link.ErrCodeLocked)

	code, _, err = e.b.IssueCode(ctx, h, link.Client{})
	if err != nil {
		t.Fatal(err)
	}
	// The other recipient's link has no code; this one's is not theirs.
	_, err = e.a.VerifyCode(ctx, c.Links[1].Token.Hash(), code, link.Client{})
	wantErr(t, "code on another link", err, link.ErrNoCode)
	a, err = e.a.VerifyCode(ctx, h, code[:4]+" "+code[4:], link.Client{})
	if err != nil || a.Recipient != "bob@example.net" {
		t.Fatalf("right code: %+v, %v", a, err)
	}
	_, err = e.b.VerifyCode(ctx, h, code, link.Client{})
	wantErr(t, "code reused", err, link.ErrCodeUsed)

	code, _, err = e.a.IssueCode(ctx, h, link.Client{})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	_, err = e.b.VerifyCode(ctx, h, code, link.Client{})
	wantErr(t, "expired code", err, link.ErrCodeExpired)
}

func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func testCodeRateLimit(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.create(e.a, e.pkg(0))
	h := c.Links[1].Token.Hash()
	for i := range 5 {
		s := []link.Storage{e.a, e.b}[i%2]
		if _, _, err := s.IssueCode(ctx, h, link.Client{}); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		e.clock.Advance(time.Minute)
	}
	_, _, err := e.b.IssueCode(ctx, h, link.Client{})
	wantErr(t, "sixth request within the hour", err, link.ErrCodeLimit)
	// The other link is not limited by this one.
	if _, _, err := e.b.IssueCode(ctx, c.Links[0].Token.Hash(), link.Client{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(56 * time.Minute) // the first request leaves the window
	code, _, err := e.a.IssueCode(ctx, h, link.Client{})
	if err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if _, err := e.b.VerifyCode(ctx, h, code, link.Client{}); err != nil {
		t.Fatal(err)
	}
}

func testRevoke(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.create(e.a, e.pkg(0))
	_, err := e.b.Revoke(ctx, c.Links[0].Token.Hash(), link.Client{})
	wantErr(t, "revoke with a recipient's token", err, link.ErrWrongRole)
	code, _, err := e.a.IssueCode(ctx, c.Links[0].Token.Hash(), link.Client{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := e.b.Revoke(ctx, c.RevokeToken.Hash(), link.Client{IP: "192.0.2.9"})
	if err != nil || !info.RevokedAt.Equal(e.clock.Now()) || info.RevokedBy != "alice@example.com" ||
		info.Status(e.clock.Now()) != link.StatusRevoked {
		t.Fatalf("revoke: %+v, %v", info, err)
	}
	_, err = e.a.Revoke(ctx, c.RevokeToken.Hash(), link.Client{})
	wantErr(t, "revoked twice", err, link.ErrRevoked)
	_, _, err = e.download(e.a, c.Links[0].Token.Hash(), 0)
	wantErr(t, "download after revocation", err, link.ErrRevoked)
	_, _, err = e.a.IssueCode(ctx, c.Links[1].Token.Hash(), link.Client{})
	wantErr(t, "code after revocation", err, link.ErrRevoked)
	_, err = e.b.VerifyCode(ctx, c.Links[0].Token.Hash(), code, link.Client{})
	wantErr(t, "verify after revocation", err, link.ErrRevoked)

	// The files go at the next purge, long before expiry.
	e.clock.Advance(time.Second)
	st, err := e.b.Purge(ctx, e.clock.Now())
	if err != nil || st.Files != 1 || st.Records != 0 {
		t.Fatalf("purge: %+v, %v", st, err)
	}
	if info, err := e.a.Get(ctx, c.ID); err != nil || info.Status(e.clock.Now()) != link.StatusRevoked || !info.FilesPurged {
		t.Fatalf("after purge: %+v, %v", info, err)
	}

	c2 := e.create(e.b, e.pkg(0))
	by := hold.Actor{Name: "rev", Role: "reviewer"}
	if info, err := e.a.RevokeID(ctx, c2.ID, by); err != nil || info.RevokedBy != "rev" {
		t.Fatalf("revoke by id: %+v, %v", info, err)
	}
	_, err = e.b.RevokeID(ctx, c2.ID, by)
	wantErr(t, "revoke by id twice", err, link.ErrRevoked)
	_, err = e.b.RevokeID(ctx, strings.Repeat("ab", 16), by)
	wantErr(t, "revoke unknown id", err, link.ErrNotFound)
}

func testExpiry(t *testing.T, e *env) {
	ctx := context.Background()
	p := e.pkg(0)
	c := e.create(e.a, p)
	h := c.Links[0].Token.Hash()
	if _, _, err := e.download(e.b, h, 1); err != nil {
		t.Fatal(err)
	}
	if st, err := e.a.Purge(ctx, e.clock.Now()); err != nil || st.Files != 0 || st.Records != 0 {
		t.Fatalf("purge before expiry: %+v, %v", st, err)
	}
	e.clock.Advance(24 * time.Hour)
	_, _, err := e.download(e.b, h, 1)
	wantErr(t, "download at expiry", err, link.ErrExpired)
	_, _, err = e.a.IssueCode(ctx, h, link.Client{})
	wantErr(t, "code at expiry", err, link.ErrExpired)
	_, err = e.a.Revoke(ctx, c.RevokeToken.Hash(), link.Client{})
	wantErr(t, "revoke at expiry", err, link.ErrExpired)

	st, err := e.a.Purge(ctx, e.clock.Now())
	if err != nil || st.Files != 1 || st.Records != 0 {
		t.Fatalf("purge at expiry: %+v, %v", st, err)
	}
	if st, err := e.b.Purge(ctx, e.clock.Now()); err != nil || st.Files != 0 || st.Records != 0 {
		t.Fatalf("second purge: %+v, %v", st, err)
	}
	// The record and the log stay for the retention period.
	if log, err := e.b.PackageLog(ctx, c.ID); err != nil || len(log) != 1 {
		t.Fatalf("log kept: %d, %v", len(log), err)
	}
	if a, err := e.b.Resolve(ctx, h); err != nil || !a.Info.FilesPurged {
		t.Fatalf("record kept: %+v, %v", a, err)
	}
	e.clock.Advance(retention)
	st, err = e.b.Purge(ctx, e.clock.Now())
	if err != nil || st.Records != 1 {
		t.Fatalf("purge after retention: %+v, %v", st, err)
	}
	_, err = e.a.Resolve(ctx, h)
	wantErr(t, "token after purge", err, link.ErrNotFound)
	_, err = e.a.Get(ctx, c.ID)
	wantErr(t, "package after purge", err, link.ErrNotFound)
	if log, err := e.a.PackageLog(ctx, c.ID); err != nil || len(log) != 0 {
		t.Fatalf("log after purge: %d, %v", len(log), err)
	}
	if infos, err := e.a.ByMessage(ctx, p.MessageID); err != nil || len(infos) != 0 {
		t.Fatalf("by message after purge: %d, %v", len(infos), err)
	}
}

// race runs fn n times at once, alternating the two stores, and returns
// how many succeeded; every other error must be one of allowed.
func race(t *testing.T, e *env, n int, fn func(s link.Storage) error, allowed ...error) int {
	t.Helper()
	var ok atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := []link.Storage{e.a, e.b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := fn(s)
			if err == nil {
				ok.Add(1)
				return
			}
			for _, a := range allowed {
				if errors.Is(err, a) {
					return
				}
			}
			t.Errorf("unexpected: %v", err)
		}()
	}
	close(start)
	wg.Wait()
	return int(ok.Load())
}

func testRaceVerify(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.create(e.a, e.pkg(0))
	h := c.Links[0].Token.Hash()
	code, _, err := e.b.IssueCode(ctx, h, link.Client{})
	if err != nil {
		t.Fatal(err)
	}
	n := race(t, e, 8, func(s link.Storage) error {
		_, err := s.VerifyCode(ctx, h, code, link.Client{})
		return err
	}, link.ErrCodeUsed)
	if n != 1 {
		t.Fatalf("the code verified %d times", n)
	}
	// Wrong codes racing: exactly the allowed tries count.
	code, _, err = e.a.IssueCode(ctx, h, link.Client{})
	if err != nil {
		t.Fatal(err)
	}
	var wrong, locked atomic.Int32
	race(t, e, 10, func(s link.Storage) error {
		_, err := s.VerifyCode(ctx, h, wrongCode(code), link.Client{})
		switch {
		case errors.Is(err, link.ErrCodeLocked):
			locked.Add(1)
			return nil
		case errors.Is(err, link.ErrCodeWrong):
			wrong.Add(1)
			return nil
		}
		return err
	})
	if wrong.Load() != 4 || locked.Load() != 6 {
		t.Fatalf("%d wrong, %d locked", wrong.Load(), locked.Load())
	}
}

func testRaceDownload(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.create(e.a, e.pkg(1))
	n := race(t, e, 10, func(s link.Storage) error {
		fr, err := s.OpenFile(ctx, c.Links[0].Token.Hash(), 1, link.Client{})
		if err == nil {
			fr.Close()
		}
		return err
	}, link.ErrExhausted)
	if n != 1 {
		t.Fatalf("a single-use file was opened %d times", n)
	}
	if log, err := e.b.PackageLog(ctx, c.ID); err != nil || len(log) != 1 {
		t.Fatalf("log: %d, %v", len(log), err)
	}
}

func testRaceRevoke(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.create(e.a, e.pkg(0))
	n := race(t, e, 6, func(s link.Storage) error {
		_, err := s.Revoke(ctx, c.RevokeToken.Hash(), link.Client{})
		return err
	}, link.ErrRevoked)
	if n != 1 {
		t.Fatalf("revoked %d times", n)
	}
}

func testRaceIssue(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.create(e.a, e.pkg(0))
	n := race(t, e, 9, func(s link.Storage) error {
		_, _, err := s.IssueCode(ctx, c.Links[0].Token.Hash(), link.Client{})
		return err
	}, link.ErrCodeLimit)
	if n != 5 {
		t.Fatalf("%d codes issued, limit 5", n)
	}
}

func testRacePurge(t *testing.T, e *env) {
	ctx := context.Background()
	const pkgs = 4
	for range pkgs {
		p := e.pkg(0)
		p.Files = p.Files[1:]
		e.create([]link.Storage{e.a, e.b}[e.seq%2], p)
	}
	e.clock.Advance(24*time.Hour + retention)
	var files, records atomic.Int32
	race(t, e, 6, func(s link.Storage) error {
		st, err := s.Purge(ctx, e.clock.Now())
		files.Add(int32(st.Files))
		records.Add(int32(st.Records))
		return err
	})
	if files.Load() != pkgs || records.Load() != pkgs {
		t.Fatalf("purged files of %d, records of %d packages, want %d each", files.Load(), records.Load(), pkgs)
	}
}
