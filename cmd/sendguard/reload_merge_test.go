package main

import (
	"reflect"
	"testing"

	"github.com/sendguard/sendguard/config"
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
