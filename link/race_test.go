package link

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
)

// Racing downloads never exceed the limit: the count is checked and
// taken in one transaction.
func TestRacingDownloadsRespectLimit(t *testing.T) {
	e := newEnv(t, nil)
	p := e.pkg()
	p.MaxDownloads = 3
	c := e.create(p)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, gone := 0, 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fr, err := e.store.OpenFile(context.Background(), c.Links[i%2].Token.Hash(), 0, Client{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				fr.Close()
				ok++
			case errors.Is(err, ErrExhausted):
				gone++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 3 || gone != 13 {
		t.Fatalf("%d downloads, %d refused", ok, gone)
	}
	log, _ := e.store.Log(context.Background(), p.MessageID)
	if len(log) != 3 {
		t.Errorf("log has %d entries", len(log))
	}
}

// A right code posted twice at once verifies once.
func TestRacingVerifyOnce(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	h := c.Links[0].Token.Hash()
	code, _, err := e.store.IssueCode(context.Background(), h, Client{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.store.VerifyCode(context.Background(), h, code, Client{})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok, used := 0, 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrCodeUsed):
			used++
		default:
			t.Error(err)
		}
	}
	if ok != 1 || used != 7 {
		t.Fatalf("%d verified, %d refused as used", ok, used)
	}
}

// A package whose record cannot commit leaves no files behind.
func TestCreateCommitFailureLeavesNothing(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Create(context.Background(), e.pkg()); err == nil {
		t.Fatal("create on a closed DB succeeded")
	}
	entries, err := os.ReadDir(e.dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("%v, %d entries left", err, len(entries))
	}
}

// A partly used-up package hides the used-up file's link.
func TestExhaustedFileHidden(t *testing.T) {
	e := newEnv(t, nil)
	p := e.pkg()
	p.MaxDownloads = 1
	c := e.create(p)
	tok := c.Links[0].Token.Text()
	b := e.client()
	b.login(tok)
	if r := b.get("/d/" + tok + "/file/0"); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	page := b.get("/d/" + tok)
	if strings.Contains(page.body, "/file/0\"") || !strings.Contains(page.body, "/file/1\"") || !strings.Contains(page.body, "0 downloads left") {
		t.Errorf("page after one download:\n%s", page.body)
	}
}
