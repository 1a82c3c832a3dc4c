package directory

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/slapdtest"
)

// TestDeputyAndAbsence reads a deputy (secretary) and absence (the 不在
// group) from the real server, and gathers approvers from every source.
func TestDeputyAndAbsence(t *testing.T) {
	s := slapdtest.Start(t)
	cfg := testConfig(s.URL)
	cfg.DeputyAttr = "secretary"
	l, err := NewLDAP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	ctx := context.Background()

	p, err := l.Lookup(ctx, "kimura@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if p.Deputy != "kato@example.com" || p.DeputyDN != "uid=kato,ou=people,dc=example,dc=com" || !slices.Contains(p.Groups, "不在") {
		t.Fatalf("kimura: %+v", p)
	}
	// Without the attribute configured nobody has a deputy.
	plain, _ := NewLDAP(testConfig(s.URL))
	t.Cleanup(plain.Close)
	if p, err := plain.Lookup(ctx, "kimura@example.com"); err != nil || p.Deputy != "" {
		t.Fatalf("deputy read without deputy attribute: %+v %v", p, err)
	}

	d := New(l, Options{Wait: 2 * time.Second, AbsentGroup: "不在", Approvers: []string{"manager", "group"},
		ApproverGroup: "cn=承認者,ou=groups,dc=example,dc=com"})
	if st := d.Standing(ctx, "Kimura@Example.com"); !st.Known || !st.Absent || st.Deputy != "kato@example.com" {
		t.Fatalf("kimura standing %+v", st)
	}
	if st := d.Standing(ctx, "sato@example.com"); !st.Known || st.Absent || st.Deputy != "" {
		t.Fatalf("sato standing %+v", st)
	}
	if st := d.Standing(ctx, "nobody@example.com"); st.Known || st.Absent {
		t.Fatalf("unknown standing %+v", st)
	}
	src := d.ApproverSources(ctx, "nakamura@example.com")
	if len(src) != 2 || !slices.Equal(src[0], []string{"kimura@example.com"}) || !slices.Contains(src[1], "sato@example.com") {
		t.Fatalf("sources %q", src)
	}
	// The first source alone is what a one-approver hold uses.
	if a := d.Approvers(ctx, "nakamura@example.com"); strings.Join(a, ",") != "kimura@example.com" {
		t.Fatalf("approvers %q", a)
	}
}

// TestDeputyWithoutMail: a deputy entry that has no address is named as
// a problem, never used as an approver.
func TestDeputyWithoutMail(t *testing.T) {
	s := slapdtest.Start(t)
	cfg := testConfig(s.URL)
	cfg.DeputyAttr = "manager" // kobayashi's manager entry is gone
	l, err := NewLDAP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	p, err := l.Lookup(context.Background(), "kobayashi@example.com")
	if err != nil || p.Deputy != "" || !strings.Contains(strings.Join(p.Problems, ";"), "deputy uid=gone") {
		t.Fatalf("%+v %v", p, err)
	}
}
