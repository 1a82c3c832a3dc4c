package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/crypto/dkim"
)

func TestDKIMKeysCheckedAtLoad(t *testing.T) {
	dir := t.TempDir()
	_, good, err := dkim.GenerateKey("ed25519", 0)
	if err != nil {
		t.Fatal(err)
	}
	goodPath := filepath.Join(dir, "good.key")
	os.WriteFile(goodPath, good, 0o600)
	openPath := filepath.Join(dir, "open.key")
	os.WriteFile(openPath, good, 0o644)
	os.Chmod(openPath, 0o644)

	c, err := Parse("ok.yaml", []byte("dkim:\n  domains:\n    example.com:\n      selector: sg1\n      key_file: "+goodPath+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.DKIM.SignerDomains(); len(d) != 1 || d[0].Name != "example.com" || d[0].Selector != "sg1" {
		t.Fatalf("domains %+v", d)
	}

	_, err = Parse("bad.yaml", []byte(`dkim:
  domains:
    example.com:
      selector: sg1
      key_file: `+filepath.Join(dir, "missing.key")+`
    example.net:
      selector: "a b"
      key_file: `+openPath+`
    example.org:
      selector: s
      key_file: `+goodPath+`
      headers: [Subject]
      algo: rsa
`))
	if err == nil {
		t.Fatal("accepted bad DKIM settings")
	}
	// An unknown key is reported first (yaml decoding), alone.
	if !strings.Contains(err.Error(), "line 13: dkim.domains.<domain>.algo: unknown key") {
		t.Errorf("unknown key not located: %v", err)
	}
	_, err = Parse("bad.yaml", []byte(`dkim:
  domains:
    example.com:
      selector: sg1
      key_file: `+filepath.Join(dir, "missing.key")+`
    example.net:
      selector: "a b"
      key_file: `+openPath+`
    example.org:
      selector: s
      key_file: `+goodPath+`
      headers: [Subject]
    bad_domain:
      selector: s
      key_file: `+goodPath+`
`))
	for _, want := range []string{
		"line 5: dkim.domains.example.com.key_file: dkim key " + filepath.Join(dir, "missing.key") + ": no such file",
		"line 7: dkim.domains.example.net.selector",
		"line 8: dkim.domains.example.net.key_file: dkim key " + openPath + ": readable by every user",
		"line 12: dkim.domains.example.org.headers: signed headers must include From",
		"line 13: dkim.domains.bad_domain: \"bad_domain\" is not a domain",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
