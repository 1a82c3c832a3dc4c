package config

import (
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules/profile"
)

func TestOwnDataKeys(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("t.yaml", []byte("data_dir: /var/lib/sendguard\nedm:\n  key_file: /etc/sendguard/edm.key\npartners:\n  - {name: 株式会社山田商事, domains: [yamada.co.jp]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.EDM.On() || cfg.EDM.IndexPath(cfg.DataDir) != "/var/lib/sendguard/edm.idx" || len(cfg.Partners) != 1 {
		t.Fatalf("parsed %+v %+v", cfg.EDM, cfg.Partners)
	}
	_, err = Parse("t.yaml", []byte(`data_dir: /var/lib/sendguard
edm:
  index: /srv/edm/edm.idx
  key_file: /srv/edm/edm.key
partners:
  - name: ""
    domains: [not_a_domain]
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"edm.key_file", "index's directory", "partners[0].name", "partners[0].domains[0]", "line 7"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
	if _, err := Parse("t.yaml", []byte("edm:\n  index: /srv/edm.idx\n")); err == nil || !strings.Contains(err.Error(), "required with edm.index") {
		t.Fatalf("index without key: %v", err)
	}
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("t.yaml", []byte(`partners:
  - {name: 株式会社山田商事, domains: [yamada.co.jp, yamada.jp], profile: link}
  - {name: 東西銀行株式会社, domains: [tozai-bank.co.jp], profile: plain}
  - {name: 旧システム株式会社, domains: [old.example], profile: zipcrypto, require_tls: true}
encrypt:
  domains:
    yamada.jp: aes_zip
    "*": encrypt_zip
  require_tls_domains: [secure.example]
`))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := cfg.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	for dom, want := range map[string]profile.Profile{
		"yamada.co.jp":     {Kind: profile.Link},
		"yamada.jp":        {Kind: profile.AESZip}, // encrypt.domains overrides the partner
		"tozai-bank.co.jp": {Kind: profile.Plain, RequireTLS: true},
		"old.example":      {Kind: profile.ZipCrypto, RequireTLS: true},
		"secure.example":   {RequireTLS: true},
		"other.example":    {Kind: profile.AESZip},
	} {
		if got := tb.For(dom); got != want {
			t.Errorf("%s: %+v, want %+v", dom, got, want)
		}
	}
	_, err = Parse("t.yaml", []byte(`partners:
  - {name: A株式会社, domains: [shared.example], profile: link}
  - {name: B株式会社, domains: [shared.example], profile: aes_zip}
  - {name: C株式会社, domains: [c.example], profile: pgp}
encrypt:
  domains: {x.example: sometimes}
  require_tls_domains: ["*"]
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"partners[1].profile", "shared.example has profile aes_zip, but partners[0].profile gives link",
		"partners[2].profile", `unknown profile "pgp"`, "encrypt.domains", `"sometimes"`, "encrypt.require_tls_domains[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
}
