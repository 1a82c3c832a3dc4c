package console

import (
	"net/http"
	"strings"
	"testing"
)

// A reload's new role mapping takes effect at the next sign-in against the
// real provider: the sales user refused before is let in as a viewer; an
// invalid mapping is refused and the one in force stays.
func TestSSOMappingSwappedLive(t *testing.T) {
	e, _ := ssoEnv(t, nil)
	sso := e.h.sso
	b := newBrowser(t)
	if st, _, _ := b.do("GET", b.signInAtProvider(b.toProvider(e), "out"), nil); st != http.StatusForbidden {
		t.Fatalf("unmapped user before the change: %d", st)
	}
	before := sso.Mapping()
	if err := sso.SetMapping(SSOMapping{Roles: map[string][]string{"owner": {"sales"}}}); err == nil || !strings.Contains(err.Error(), "unknown role") {
		t.Fatalf("invalid mapping: %v", err)
	}
	if err := sso.SetMapping(SSOMapping{Roles: map[string][]string{RoleViewer: {}}}); err == nil {
		t.Fatal("a mapping that lets nobody in was accepted")
	}
	if got := sso.Mapping(); len(got.Roles) != len(before.Roles) || got.GroupsClaim != "groups" {
		t.Fatalf("a refused mapping changed the one in force: %+v", got)
	}
	roles := before.Roles
	roles[RoleViewer] = append(roles[RoleViewer], "sales")
	if err := sso.SetMapping(SSOMapping{Roles: roles}); err != nil {
		t.Fatal(err)
	}
	b = newBrowser(t)
	st, _, hd := b.do("GET", b.signInAtProvider(b.toProvider(e), "out"), nil)
	if st != http.StatusSeeOther || hd.Get("Location") != "/console/" {
		t.Fatalf("sales user after the change: %d", st)
	}
	if st, page, _ := b.do("GET", e.srv.URL+"/console/queue", nil); st != 200 || !strings.Contains(page, "role-"+RoleViewer) {
		t.Fatalf("queue as the newly mapped user: %d", st)
	}
}
