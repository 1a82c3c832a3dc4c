package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/link/linkpg"
	"github.com/sendguard/sendguard/queue/pgstore"
)

// A download link made on node A (the link action on mail A accepted) is
// served, code and file, by node B's web listener: the package and its
// encrypted file are in the shared database, not on A's disk.
func TestClusterLinkAcrossNodes(t *testing.T) {
	dsn := pgtest.New(t)
	sk := startSink(t)
	a, b := startNodes(t, dsn, sk.Addr, linkPolicy)
	to := []string{"buyer@partner.test"}
	if err := sendMail(a.smtp, "alice@example.com", to, attachmentMail("alice@example.com", to[0], "xlink")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool { return len(mailsFrom(sk, "alice@example.com")) == 1 })
	onA := dlLinkRE.FindString(noticeText(t, mailsFrom(sk, "alice@example.com")[0].Data))
	if !strings.HasPrefix(onA, "http://"+a.web+"/") {
		t.Fatalf("no link of node A in the mail: %q", onA)
	}
	if ents, err := os.ReadDir(filepath.Join(a.dir, "data", "links")); err != nil || len(ents) != 0 {
		t.Fatalf("node A keeps link files on disk: %v, %v", ents, err)
	}
	link := "http://" + b.web + strings.TrimPrefix(onA, "http://"+a.web)
	br := newBrowser(t)
	code, page := br.get(link)
	if code != 200 || !strings.Contains(page, "quote.csv") {
		t.Fatalf("B's link page: %d\n%.400s", code, page)
	}
	if code, body := br.post(link, url.Values{"csrf": {formValue(page, "csrf")}, "lang": {"en"}, "action": {"send_code"}}); code != 200 {
		t.Fatalf("send code: %d %.300s", code, body)
	}
	otp := regexp.MustCompile(`\b(\d{4} ?\d{4})\b`).FindStringSubmatch(waitNotice(t, sk, "buyer@partner.test", ""))
	if otp == nil {
		t.Fatal("no code in the mail to the buyer")
	}
	_, page = br.get(link)
	if code, body := br.post(link+"/verify", url.Values{"csrf": {formValue(page, "csrf")}, "lang": {"en"}, "code": {otp[1]}}); code != 200 {
		t.Fatalf("verify: %d %.300s", code, body)
	}
	_, page = br.get(link)
	href := regexp.MustCompile(`href="([^"]*/file/[^"]*)"`).FindStringSubmatch(page)
	if href == nil {
		t.Fatalf("no download link after the code:\n%.600s", page)
	}
	if code, body := br.get("http://" + b.web + strings.ReplaceAll(href[1], "&amp;", "&")); code != 200 || body != csvBody {
		t.Fatalf("download through B: %d %q", code, body)
	}
}

// db import copies a single node's link packages with their encrypted
// files and download logs; twice adds nothing.
func TestImportLinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "sendguard.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, err := link.LoadOrCreateKey(filepath.Join(dir, link.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	local, err := link.New(db, filepath.Join(dir, "links"), key, link.Options{})
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("0123456789abcdef"), 40000) // several chunks
	c, err := local.Create(ctx, link.Package{MessageID: "<imp@test>", Sender: "alice@example.com",
		Recipients: []string{"bob@partner.test"}, Expires: time.Now().Add(time.Hour),
		Files: []link.FileIn{{Name: "a.bin", Reader: bytes.NewReader(content)}}})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Links[0].Token.Hash()
	fr, err := local.OpenFile(ctx, h, 0, link.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	fr.Close()
	gone, err := local.Create(ctx, link.Package{MessageID: "<gone@test>", Sender: "alice@example.com",
		Recipients: []string{"bob@partner.test"}, Expires: time.Now().Add(time.Hour),
		Files: []link.FileIn{{Name: "b.bin", Reader: strings.NewReader("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Revoke(ctx, gone.RevokeToken.Hash(), link.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, err := local.Purge(ctx, time.Now()); err != nil { // the revoked package's files go
		t.Fatal(err)
	}

	pool, err := pgstore.Connect(ctx, pgtest.New(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, want := range []string{"1 packages imported, 0 already there", "0 packages imported, 1 already there"} {
		out.Reset()
		if err := importLinks(ctx, &out, pool, db, dir); err != nil || !strings.Contains(out.String(), want) {
			t.Fatalf("import: %v\n%s", err, out.String())
		}
	}
	shared, err := linkpg.New(pool, key, link.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if log, err := shared.PackageLog(ctx, c.ID); err != nil || len(log) != 1 || log[0].IP != "192.0.2.1" {
		t.Fatalf("imported log: %+v, %v", log, err)
	}
	fr, err = shared.OpenFile(ctx, h, 0, link.Client{})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	if got, err := io.ReadAll(fr); err != nil || !bytes.Equal(got, content) || fr.File.Downloads != 2 {
		t.Fatalf("imported file: %d bytes, %d downloads, %v", len(got), fr.File.Downloads, err)
	}
	if _, err := shared.Resolve(ctx, gone.Links[0].Token.Hash()); err == nil {
		t.Fatal("a package without files was imported")
	}
	var unknown token.Hash
	if _, err := shared.Resolve(ctx, unknown); err == nil {
		t.Fatal("unknown token resolved")
	}
}
