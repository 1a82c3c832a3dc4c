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
