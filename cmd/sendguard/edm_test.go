package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules/edm"
)

func TestEDMImportConfigCheckAndServeRefusal(t *testing.T) {
	dir := t.TempDir()
	data, keys := filepath.Join(dir, "data"), filepath.Join(dir, "keys")
	for _, d := range []string{data, keys} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	csv, _ := japanese.ShiftJIS.NewEncoder().String("氏名,電話,メール\n山田 太郎,090-1111-2222,taro@example.net\n佐藤 花子,03-5555-0000,hanako@example.org\n")
	src := filepath.Join(dir, "customers.csv")
	if err := os.WriteFile(src, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	key, idx := filepath.Join(keys, "edm.key"), filepath.Join(data, "edm.idx")
	if err := edmCmd([]string{"import", "-fields", "name,phone,email", "-key", filepath.Join(data, "edm.key"), "-index", idx, src}); !errors.Is(err, edm.ErrSameDir) {
		t.Fatalf("key next to the index accepted: %v", err)
	}
	if err := edmCmd([]string{"import", "-fields", "name,phone,email", "-key", key, "-index", idx, src}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	cfgPath := filepath.Join(dir, "sendguard.yaml")
	yaml := "data_dir: " + data + "\ninternal_domains: [example.com]\nedm:\n  key_file: " + key + "\npartners:\n  - {name: 株式会社山田商事, domains: [yamada.example.jp]}\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := configCmd([]string{"check", cfgPath}); err != nil {
		t.Fatalf("config check: %v", err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	insp, _, err := newRulesInspectorPolicy(cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(ownDataNotes(insp), "\n")
	if !strings.Contains(notes, "2 records (name, phone, email)") || !strings.Contains(notes, "1 companies") ||
		strings.Contains(notes, "山田") || strings.Contains(notes, "090") {
		t.Fatalf("console notes %q", notes)
	}

	// a corrupt index, then a missing one: config check and serve refuse
	raw, _ := os.ReadFile(idx)
	raw[len(raw)/2] ^= 0xFF
	if err := os.WriteFile(idx, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := configCmd([]string{"check", cfgPath}); err == nil || !strings.Contains(err.Error(), "edm.index") || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt index: %v", err)
	}
	os.Remove(idx)
	if _, _, err := newRulesInspectorPolicy(cfg, false, nil); err == nil || !strings.Contains(err.Error(), "edm.index") {
		t.Fatalf("missing index: %v", err)
	}
}
