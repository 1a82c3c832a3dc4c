package link

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
)

func countAction(evs []hold.Event, action string) int {
	n := 0
	for _, e := range evs {
		if e.Action == action {
			n++
		}
	}
	return n
}

func TestFilesEncryptedOnDisk(t *testing.T) {
	e := newEnv(t, nil)
	secret := strings.Repeat("マイナンバー 123456789018 CONFIDENTIAL-MARKER ", 3000)
	c := e.create(e.pkg(FileIn{Name: "顧客.csv", Reader: strings.NewReader(secret)}))
	found := 0
	err := filepath.WalkDir(e.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		found++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(b, []byte("SGAR")) {
			t.Errorf("%s is not an atrest file", path)
		}
		for _, needle := range []string{"CONFIDENTIAL-MARKER", "123456789018", "マイナンバー", "顧客"} {
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("%s contains plaintext %q", path, needle)
			}
		}
		if st, _ := d.Info(); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", path, st.Mode().Perm())
		}
		return nil
	})
	if err != nil || found != 1 {
		t.Fatalf("walk: %v, %d files", err, found)
	}
	// Nor in the database: only hashes of the tokens.
	db, err := os.ReadFile(e.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte("CONFIDENTIAL-MARKER")) || bytes.Contains(db, []byte(c.Links[0].Token.Text())) ||
		bytes.Contains(db, []byte(c.RevokeToken.Text())) {
		t.Error("database holds file plaintext or a raw token")
	}
	fr, err := e.store.OpenFile(context.Background(), c.Links[0].Token.Hash(), 0, Client{})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	got, err := io.ReadAll(fr)
	if err != nil || string(got) != secret {
		t.Fatalf("round trip: %v", err)
	}
}

func TestTamperedFileRefused(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	path := filepath.Join(e.dir, c.ID, "0")
	b, _ := os.ReadFile(path)
	b[len(b)-20] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.OpenFile(context.Background(), c.Links[0].Token.Hash(), 0, Client{}); err == nil {
		t.Fatal("tampered file opened")
	}
	info, _ := e.store.Get(context.Background(), c.ID)
	if info.Files[0].Downloads != 0 {
		t.Error("a refused download was counted")
	}
}

func TestPurge(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *Config) { o.Retention = 24 * time.Hour })
	ctx := context.Background()
	p1 := e.pkg()
	c1 := e.create(p1)
	p2 := e.pkg()
	p2.MessageID = "<m2@example.com>"
	p2.Expires = e.clock.Now().Add(30 * 24 * time.Hour)
	c2 := e.create(p2)
	p3 := e.pkg()
	p3.MessageID = "<m3@example.com>"
	c3 := e.create(p3)
	if _, err := e.store.Revoke(ctx, c3.RevokeToken.Hash(), Client{}); err != nil {
		t.Fatal(err)
	}
	b := e.client()
	b.login(c1.Links[0].Token.Text())
	b.get("/d/" + c1.Links[0].Token.Text() + "/file/0")

	exists := func(id string) bool { _, err := os.Stat(filepath.Join(e.dir, id)); return err == nil }
	st, err := e.store.Purge(ctx, e.clock.Now())
	if err != nil || st.Files != 1 || st.Records != 0 {
		t.Fatalf("purge now: %+v %v", st, err)
	}
	if exists(c3.ID) || !exists(c1.ID) || !exists(c2.ID) {
		t.Fatal("revoked files not purged at once, or others purged")
	}

	e.clock.Advance(7 * 24 * time.Hour)
	st, err = e.store.Purge(ctx, e.clock.Now())
	if err != nil || st.Files != 1 || st.Records != 0 {
		t.Fatalf("purge at expiry: %+v %v", st, err)
	}
	if exists(c1.ID) || !exists(c2.ID) {
		t.Fatal("expired files not purged")
	}
	// The record and its log stay for the retention period.
	if log, _ := e.store.Log(ctx, p1.MessageID); len(log) != 1 {
		t.Errorf("log after file purge: %d entries", len(log))
	}
	if a, err := e.store.Resolve(ctx, c1.Links[0].Token.Hash()); err != nil || a.Info.Status(e.clock.Now()) != StatusExpired {
		t.Errorf("record after file purge: %v", err)
	}

	e.clock.Advance(24 * time.Hour)
	st, err = e.store.Purge(ctx, e.clock.Now())
	if err != nil || st.Records != 2 {
		t.Fatalf("purge after retention: %+v %v", st, err)
	}
	for _, c := range []*Created{c1, c3} {
		if _, err := e.store.Resolve(ctx, c.Links[0].Token.Hash()); !errors.Is(err, ErrNotFound) {
			t.Errorf("token of purged package: %v", err)
		}
		if _, err := e.store.Get(ctx, c.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("purged package: %v", err)
		}
	}
	if log, _ := e.store.Log(ctx, p1.MessageID); len(log) != 0 {
		t.Errorf("log survives purge: %d", len(log))
	}
	if _, err := e.store.Get(ctx, c2.ID); err != nil || !exists(c2.ID) {
		t.Error("live package purged")
	}
	// Nothing left in the package's buckets but c2's entries.
	counts := map[string]int{}
	e.db.View(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			counts[string(b)] = tx.Bucket(b).Stats().KeyN
		}
		return nil
	})
	want := map[string]int{"link_packages": 1, "link_tokens": 3, "link_codes": 0, "link_by_msg": 1, "link_files": 1, "link_expiry": 1, "link_log": 0}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s has %d keys, want %d", k, counts[k], v)
		}
	}
	evs, _ := e.audit.Events(ctx, p1.MessageID)
	if countAction(evs, "link_purged") != 1 {
		t.Error("no purge event")
	}
}

func TestPurgeSweepsOrphans(t *testing.T) {
	e := newEnv(t, nil)
	orphan := filepath.Join(e.dir, "0123456789abcdef0123456789abcdef")
	if err := os.MkdirAll(orphan, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(orphan, "0"), []byte("x"), 0o600)
	p := e.pkg()
	p.Expires = time.Now().Add(365 * 24 * time.Hour) // directory times are wall-clock times
	c := e.create(p)
	st, _ := e.store.Purge(context.Background(), time.Now())
	if st.Orphans != 0 {
		t.Fatal("young orphan swept")
	}
	st, err := e.store.Purge(context.Background(), time.Now().Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) || st.Orphans != 1 {
		t.Errorf("orphan not swept: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(e.dir, c.ID)); err != nil {
		t.Error("owned directory swept")
	}
}

func TestCreateValidates(t *testing.T) {
	e := newEnv(t, nil)
	ok := e.pkg()
	cases := map[string]func(*Package){
		"no recipients":  func(p *Package) { p.Recipients = nil },
		"bad recipient":  func(p *Package) { p.Recipients = []string{"a@b.example\r\nBcc: x@y"} },
		"bad sender":     func(p *Package) { p.Sender = "not an address" },
		"no files":       func(p *Package) { p.Files = nil },
		"past expiry":    func(p *Package) { p.Expires = e.clock.Now() },
		"no message id":  func(p *Package) { p.MessageID = "" },
		"negative limit": func(p *Package) { p.MaxDownloads = -1 },
		"nil reader":     func(p *Package) { p.Files = []FileIn{{Name: "x"}} },
	}
	for name, mut := range cases {
		p := ok
		p.Files = append([]FileIn(nil), ok.Files...)
		mut(&p)
		if _, err := e.store.Create(context.Background(), p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	entries, _ := os.ReadDir(e.dir)
	if len(entries) != 0 {
		t.Errorf("refused packages left %d directories", len(entries))
	}
	// A failing reader leaves nothing behind either.
	p := e.pkg(FileIn{Name: "a", Reader: io.MultiReader(strings.NewReader("abc"), errReader{})})
	if _, err := e.store.Create(context.Background(), p); err == nil {
		t.Fatal("failing reader accepted")
	}
	entries, _ = os.ReadDir(e.dir)
	if len(entries) != 0 {
		t.Errorf("failed create left %d directories", len(entries))
	}
	// Duplicate recipients get one link.
	p = e.pkg()
	p.Recipients = []string{"a@x.example", "A@X.example", "b@x.example"}
	c := e.create(p)
	if len(c.Links) != 2 {
		t.Errorf("%d links for duplicate recipients", len(c.Links))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":       "passwd",
		`C:\Users\x\見積.xlsx`:     "見積.xlsx",
		"a\r\nb.txt":             "a  b.txt",
		"\u202eexe.pdf":          "exe.pdf",
		"":                       "attachment-1",
		"..":                     "attachment-1",
		".hidden":                "hidden",
		strings.Repeat("あ", 300): strings.Repeat("あ", 200),
	} {
		if got := cleanName(in, 0); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFile)
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Fatalf("key file mode %v size %d", st.Mode().Perm(), st.Size())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || k2.ID() != k1.ID() {
		t.Fatalf("reload: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Error("world-readable key accepted")
	}
	os.WriteFile(path, []byte("short"), 0o600)
	os.Chmod(path, 0o600)
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Error("short key accepted")
	}
}

func TestRunPurges(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	e.clock.Advance(8 * 24 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.store.Run(ctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(e.dir, c.ID)); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not purge")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}
