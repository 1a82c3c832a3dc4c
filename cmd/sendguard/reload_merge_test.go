package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules/profile"
)

func TestMergeLiveKeepsWhatNeedsARestart(t *testing.T) {
	run := config.Defaults()
	next := config.Defaults()
	next.SMTP.Listen = "127.0.0.1:2626"
	next.SMTP.Untrusted.MaxConnections = 7
	next.Policy = "/etc/sendguard/policy.yaml"
	next.Hold.Approvers = map[string][]string{"*": {"boss@example.com"}}
	next.Detect.BuiltinDictionary = false
	next.Log.Level = "debug"
	next.Log.Format = "json"
	next.Web.TLS = config.TLS{Cert: "c.pem", Key: "k.pem"} // turning TLS on

	eff, changed, restart := mergeLive(&run, &next)
	if want := []string{"policy", "smtp.untrusted.max_connections", "smtp.listen", "hold.approvers", "log.level", "log.format", "detect", "web.tls"}; !sameSet(append(changed, restart...), want) {
		t.Fatalf("changed %v, restart %v; want together %v", changed, restart, want)
	}
	if !sameSet(restart, []string{"smtp.listen", "smtp.untrusted.max_connections", "log.format", "web.tls"}) {
		t.Fatalf("restart needed for %v", restart)
	}
	if eff.SMTP.Listen != run.SMTP.Listen || eff.SMTP.Untrusted.MaxConnections != run.SMTP.Untrusted.MaxConnections ||
		eff.Log.Format != run.Log.Format || eff.Web.TLS != run.Web.TLS {
		t.Fatalf("a restart-only key took the new value: %+v", eff)
	}
	if eff.Policy != next.Policy || eff.Log.Level != "debug" || eff.Detect.BuiltinDictionary ||
		!reflect.DeepEqual(eff.Hold.Approvers, next.Hold.Approvers) {
		t.Fatalf("a live key kept the old value: %+v", eff)
	}
	if run.Policy != "" || run.Hold.Approvers != nil {
		t.Fatal("the running configuration was modified")
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// The directory, DKIM, approvals, allowances and the console's sign-on
// mapping are live; the provider and client of single sign-on and local
// sign-in need a restart.
func TestMergeLiveDirectoryDKIMConsole(t *testing.T) {
	run := config.Defaults()
	next := config.Defaults()
	next.Directory.LDAP.URL = "ldap://127.0.0.1:389"
	next.DKIM.Domains = map[string]config.DKIMDomain{"example.com": {Selector: "s1", KeyFile: "k"}}
	next.Hold.ApprovalsRequired, next.Hold.Absent = 2, []string{"boss@example.com"}
	next.Hold.Deputies = map[string]string{"boss@example.com": "vice@example.com"}
	next.Allowances = map[string]map[string]int{"visible_external": {"営業部": 30}}
	next.Console.OIDC.Roles = map[string][]string{"viewer": {"auditors"}}
	next.Console.OIDC.GroupsClaim = "roles"
	next.Console.OIDC.Issuer = "https://idp.example.com"
	next.Console.LocalLogin = !run.Console.LocalLogin
	eff, changed, restart := mergeLive(&run, &next)
	if !sameSet(changed, []string{"directory", "dkim", "hold.approvals_required", "hold.absent", "hold.deputies", "allowances",
		"console.oidc.roles", "console.oidc.groups_claim"}) {
		t.Errorf("changed %v", changed)
	}
	if !sameSet(restart, []string{"console.oidc.issuer", "console.local_login"}) {
		t.Errorf("restart needed for %v", restart)
	}
	if eff.Directory.LDAP.URL == "" || len(eff.DKIM.Domains) != 1 || eff.Console.OIDC.Issuer != "" || eff.Console.OIDC.GroupsClaim != "roles" {
		t.Errorf("effective %+v", eff)
	}
}

// Per-domain protection profiles are live (encrypt.domains,
// encrypt.require_tls_domains, partners[].profile); how attachments are
// encrypted (encrypt.zip_crypto, the password length) needs a restart.
func TestMergeLiveProfiles(t *testing.T) {
	run := config.Defaults()
	next := config.Defaults()
	next.Encrypt.Domains = map[string]string{"zipco.test": "zipcrypto", "*": "aes_zip"}
	next.Encrypt.RequireTLSDomains = []string{"bank.test"}
	next.Partners = []config.Partner{{Name: "東西銀行株式会社", Domains: []string{"bank.test"}, Profile: "plain", RequireTLS: true}}
	next.Encrypt.PasswordLength = run.Encrypt.PasswordLength + 4
	eff, changed, restart := mergeLive(&run, &next)
	if !sameSet(changed, []string{"encrypt.domains", "encrypt.require_tls_domains", "partners"}) {
		t.Errorf("changed %v", changed)
	}
	if !sameSet(restart, []string{"encrypt.password_length"}) {
		t.Errorf("restart needed for %v", restart)
	}
	if !reflect.DeepEqual(eff.Encrypt.Domains, next.Encrypt.Domains) || len(eff.Partners) != 1 || eff.Encrypt.PasswordLength != run.Encrypt.PasswordLength {
		t.Errorf("effective %+v", eff.Encrypt)
	}
	// The unit a reload builds carries the new table, and a bad profile
	// refuses it.
	u, err := buildUnit(eff, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if p := u.profiles.For("zipco.test"); p.Kind != profile.ZipCrypto {
		t.Errorf("zipco.test profile %v", p)
	}
	if p := u.profiles.For("bank.test"); !p.RequireTLS {
		t.Errorf("bank.test profile %v, want TLS required", p)
	}
	bad := *eff
	bad.Encrypt.Domains = map[string]string{"zipco.test": "rot13"}
	if _, err := buildUnit(&bad, nil, t.TempDir()); err == nil || !strings.Contains(err.Error(), "encrypt.domains") {
		t.Errorf("a bad profile built a unit: %v", err)
	}
}
