package directory

import (
	"github.com/sendguard/sendguard/internal/slapdtest"

	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLDAPLookup(t *testing.T) {
	s := slapdtest.Start(t)
	l, err := NewLDAP(testConfig(s.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()

	p, err := l.Lookup(ctx, "Kei@Example.COM") // an Exchange alias
	if err != nil {
		t.Fatal(err)
	}
	if p.Mail != "suzuki@example.com" || p.Department != "経理部" || p.DisplayName != "鈴木 一郎" ||
		p.Manager != "sato@example.com" || len(p.Problems) != 0 {
		t.Errorf("suzuki: %+v", p)
	}
	// Direct, nested (全社員 through 経理部) and a cycle (loop-a ↔ loop-b).
	if want := []string{"loop-a", "loop-b", "全社員", "経理部"}; !reflect.DeepEqual(p.Groups, want) {
		t.Errorf("groups %q, want %q", p.Groups, want)
	}

	off := testConfig(s.URL)
	off.NestedGroups = NestedOff
	lo, _ := NewLDAP(off)
	defer lo.Close()
	if p, err := lo.Lookup(ctx, "suzuki@example.com"); err != nil || !reflect.DeepEqual(p.Groups, []string{"loop-a", "経理部"}) {
		t.Errorf("direct groups: %v %v", p, err)
	}

	// Entries an operator must fix are still found, with the defect named.
	for addr, want := range map[string]string{
		"yamada@example.com":    "has no manager attribute",
		"watanabe@example.com":  "uid=watanabe,ou=people,dc=example,dc=com has no mail attribute",
		"tanaka@example.com":    "manager uid=ito,ou=people,dc=example,dc=com has no mail",
		"kobayashi@example.com": "manager uid=gone,ou=people,dc=example,dc=com has no mail attribute (or does not exist)",
	} {
		p, err := l.Lookup(ctx, addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		if (p.Manager != "") != (addr == "watanabe@example.com") || !strings.Contains(strings.Join(p.Problems, ";"), want) {
			t.Errorf("%s: manager %q problems %q, want %q", addr, p.Manager, p.Problems, want)
		}
	}
	// Active Directory's in-chain rule on a server without it: an error,
	// never a sender silently in no group.
	ic := testConfig(s.URL)
	ic.NestedGroups = NestedInChain
	li, _ := NewLDAP(ic)
	defer li.Close()
	if _, err := li.Lookup(ctx, "suzuki@example.com"); err == nil || !strings.Contains(err.Error(), "not Active Directory") {
		t.Errorf("in_chain on OpenLDAP: %v", err)
	}
	if _, err := l.Lookup(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown address: %v", err)
	}
	if _, err := l.Lookup(ctx, "shared@example.com"); err == nil || !strings.Contains(err.Error(), "2 entries") {
		t.Errorf("duplicate address: %v", err)
	}
	// Filter metacharacters in an address are escaped, not interpreted.
	if _, err := l.Lookup(ctx, "*)(mail=*@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("injected filter: %v", err)
	}

	m, err := l.Members(ctx, "cn=承認者,ou=groups,dc=example,dc=com")
	if err != nil || !reflect.DeepEqual(m, []string{"sato@example.com", "yamada@example.com"}) {
		t.Errorf("approver group members %q %v", m, err)
	}
	if _, err := l.Members(ctx, "cn=none,ou=groups,dc=example,dc=com"); err == nil {
		t.Error("a missing approver group gave no error")
	}
}

// LDAPS and StartTLS verify the server with the configured CA; without it
// the connection is refused.
func TestLDAPTLS(t *testing.T) {
	s := slapdtest.Start(t)
	ctx := context.Background()
	for name, cfg := range map[string]Config{
		"ldaps":    {URL: s.LDAPSURL, CAFile: s.CAFile},
		"starttls": {URL: s.URL, StartTLS: true, CAFile: s.CAFile},
	} {
		c := testConfig(cfg.URL)
		c.StartTLS, c.CAFile = cfg.StartTLS, cfg.CAFile
		l, err := NewLDAP(c)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := l.Lookup(ctx, "sato@example.com"); err != nil || p.Manager != "yamada@example.com" {
			t.Errorf("%s: %v %v", name, p, err)
		}
		l.Close()
		c.CAFile = ""
		l, _ = NewLDAP(c)
		if _, err := l.Lookup(ctx, "sato@example.com"); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s without the CA: %v", name, err)
		}
	}
}

func TestLDAPBadServer(t *testing.T) {
	s := slapdtest.Start(t)
	ctx := context.Background()

	bad := testConfig(s.URL)
	bad.Password = "wrong-password"
	l, _ := NewLDAP(bad)
	_, err := l.Lookup(ctx, "suzuki@example.com")
	if err == nil || !strings.Contains(err.Error(), "bind as "+slapdtest.BindDN) || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("bad bind: %v", err)
	}

	// A referral that points back at this server: never chased.
	ref := testConfig(s.URL)
	ref.BaseDN = "ou=branch,dc=example,dc=com"
	lr, _ := NewLDAP(ref)
	defer lr.Close()
	if _, err := lr.Lookup(ctx, "suzuki@example.com"); !errors.Is(err, ErrReferral) {
		t.Errorf("referral loop: %v", err)
	}

	// A hung server: the request timeout ends the lookup.
	good, _ := NewLDAP(testConfig(s.URL))
	defer good.Close()
	if _, err := good.Lookup(ctx, "suzuki@example.com"); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	start := time.Now()
	_, err = good.Lookup(ctx, "sato@example.com")
	took := time.Since(start)
	s.Thaw()
	if err == nil || took > 5*time.Second {
		t.Errorf("hung server: %v after %v", err, took)
	}
	t.Logf("hung server: %v after %v", err, took.Round(time.Millisecond))

	if _, err := NewLDAP(Config{URL: "http://x", BaseDN: "dc=x"}); err == nil {
		t.Error("accepted an http URL")
	}
	if _, err := NewLDAP(Config{URL: "ldap://x", BaseDN: "dc=x", UserFilter: "(mail=x)"}); err == nil {
		t.Error("accepted a filter without {addr}")
	}
}
