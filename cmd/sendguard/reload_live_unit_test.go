package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sendguard/sendguard/config"
)

// A reload keeps the running directory (and its warm cache) unless its
// settings or the bind password changed; turning it off closes it.
func TestPrepareDirectoryReuse(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("one\n"), 0o600)
	cfg := &config.Config{Directory: config.Directory{LDAP: config.LDAPDirectory{URL: "ldap://127.0.0.1:1",
		BindDN: "cn=x", PasswordFile: pw, BaseDN: "dc=example,dc=com", DialTimeout: 100 * time.Millisecond}}}
	l := &liveParts{log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.run(ctx)
	first, err := l.prepareDirectory(cfg)
	if err != nil || first == nil {
		t.Fatal(err)
	}
	l.installDirectory(first)
	if l.directory() != first.dir {
		t.Fatal("not installed")
	}
	if again, _ := l.prepareDirectory(cfg); again != first {
		t.Fatal("an unchanged directory was rebuilt (cache lost)")
	}
	os.WriteFile(pw, []byte("two\n"), 0o600)
	rotated, _ := l.prepareDirectory(cfg)
	if rotated == first {
		t.Fatal("a rotated bind password kept the old connections")
	}
	l.installDirectory(rotated)
	ttl := *cfg
	ttl.Directory.TTL = time.Minute
	if st, _ := l.prepareDirectory(&ttl); st == rotated {
		t.Fatal("a changed setting kept the old directory")
	}
	if st, err := l.prepareDirectory(&config.Config{}); st != nil || err != nil {
		t.Fatalf("no directory: %v %v", st, err)
	}
	l.installDirectory(nil)
	if l.directory() != nil {
		t.Fatal("directory still in force after turning it off")
	}
	bad := *cfg
	bad.Directory.LDAP.PasswordFile = filepath.Join(dir, "missing")
	if _, err := l.prepareDirectory(&bad); err == nil {
		t.Fatal("an unreadable password file was accepted")
	}
}
