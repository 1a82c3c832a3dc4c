package config

import (
	"strings"
	"testing"
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
