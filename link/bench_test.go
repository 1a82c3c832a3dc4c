package link

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDownload50MB compares serving a 50 MB stored file with reading
// its plaintext from disk in the same run:
//
//	plain-copy: io.Copy of the plaintext file to io.Discard (the baseline)
//	store:      Store.OpenFile (count, log, authenticate) and decrypt
//	http:       a full download over loopback HTTP with a session
//
// Run: go test ./link -run '^$' -bench Download50MB -benchtime 5x
func BenchmarkDownload50MB(b *testing.B) {
	const size = 50 << 20
	e := newEnv(b, nil)
	plain := filepath.Join(b.TempDir(), "plain.bin")
	f, err := os.Create(plain)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, io.LimitReader(rand.Reader, size)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	src, err := os.Open(plain)
	if err != nil {
		b.Fatal(err)
	}
	c := e.create(e.pkg(FileIn{Name: "big.bin", Reader: src}))
	src.Close()
	tok := c.Links[0].Token
	cl := e.client()
	cl.login(tok.Text())
	buf := make([]byte, 64<<10)

	b.Run("plain-copy", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := os.Open(plain)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, f, buf)
			f.Close()
			if err != nil || n != size {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			fr, err := e.store.OpenFile(context.Background(), tok.Hash(), 0, Client{IP: "127.0.0.1"})
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{fr}, buf)
			fr.Close()
			if err != nil || n != size {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("http", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/d/"+tok.Text()+"/file/0", nil)
			res, err := cl.http.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, res.Body, buf)
			res.Body.Close()
			if err != nil || n != size || res.StatusCode != http.StatusOK {
				b.Fatal(n, err, res.StatusCode)
			}
		}
	})
}

// BenchmarkCreate50MB compares storing a 50 MB attachment (encrypt, fsync,
// rename, directory fsync, commit) with writing and fsyncing its
// plaintext in the same run.
//
// Run: go test ./link -run '^$' -bench Create50MB -benchtime 3x
func BenchmarkCreate50MB(b *testing.B) {
	const size = 50 << 20
	e := newEnv(b, nil)
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.Run("plain-write-fsync", func(b *testing.B) {
		b.SetBytes(size)
		i := 0
		for b.Loop() {
			i++
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("plain-%d.bin", i)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(f, bytes.NewReader(data), make([]byte, 128<<10)); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("create", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			e.create(e.pkg(FileIn{Name: "big.bin", Reader: bytes.NewReader(data)}))
		}
	})
}
