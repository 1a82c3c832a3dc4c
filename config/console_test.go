package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConsoleOIDC(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("c.yaml", []byte(`console:
  local_login: false
  oidc:
    issuer: https://login.example.com/realms/corp
    client_id: sendguard
    client_secret_file: `+secret+`
    roles:
      admin: [sec-admins]
      reviewer: [sec-team]
`))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Console.OIDC
	if c.Console.LocalLogin || !o.Enabled() || o.RedirectURL != "http://127.0.0.1:8025/console/sso/callback" ||
		o.UsernameClaim != "preferred_username" || o.GroupsClaim != "groups" || len(o.Scopes) != 2 {
		t.Fatalf("defaults: %+v", c.Console)
	}
	if s, err := o.ClientSecret(); err != nil || s != "s3cret" {
		t.Fatalf("secret %q %v", s, err)
	}
	if d, err := Parse("d", DefaultYAML); err != nil || !d.Console.LocalLogin || d.Console.OIDC.Enabled() {
		t.Fatalf("default console: %+v %v", d, err)
	}
}

func TestConsoleOIDCInvalid(t *testing.T) {
	_, err := Parse("c.yaml", []byte(`console:
  local_login: false
`))
	if err == nil || !strings.Contains(err.Error(), "line 2: console.local_login: local sign-in can only be turned off when console.oidc is configured") {
		t.Fatalf("local_login off without oidc: %v", err)
	}
	_, err = Parse("c.yaml", []byte(`console:
  oidc:
    issuer: http://idp.example.com
    client_secret_file: /nonexistent/secret
    redirect_url: https://elsewhere.example/cb
    scopes: [openid, groups]
    roles:
      owner: [x]
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"line 3: console.oidc.issuer: \"http://idp.example.com\" must be an https URL",
		"console.oidc.client_id: must not be empty",
		"line 4: console.oidc.client_secret_file: read client secret",
		"line 5: console.oidc.redirect_url: must be http://127.0.0.1:8025/console/sso/callback",
		"line 6: console.oidc.scopes: openid is always requested",
		"console.oidc.roles.owner: unknown role",
		"console.oidc.roles: must map at least one group",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = Parse("c.yaml", []byte("console:\n  oidc:\n    client_id: x\n    bogus: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "console.oidc.bogus: unknown key") {
		t.Fatalf("unknown key: %v", err)
	}
}
