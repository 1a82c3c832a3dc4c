package main

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/directory"
	"github.com/sendguard/sendguard/internal/slapdtest"
)

func TestApproversNofM(t *testing.T) {
	cfg := &config.Config{Hold: config.Hold{Approvers: map[string][]string{
		"vip@example.com": {"ciso@example.com"},
		"@example.com":    {"lead1@example.com", "Boss@example.com", "lead2@example.com"},
		"*":               {"security@example.com"},
	}}}
	dir := directory.New(people{
		"vip@example.com":   {Manager: "boss@example.com"},
		"staff@example.com": {Manager: "boss@example.com"},
	}, directory.Options{})
	r := approverResolver{cfg: cfg, dir: dir, log: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		sender string
		need   int
		want   []string
	}{
		{"staff@example.com", 1, []string{"boss@example.com"}},
		// Two needed: the manager, then the domain's list (boss once).
		{"staff@example.com", 2, []string{"boss@example.com", "lead1@example.com", "lead2@example.com"}},
		{"vip@example.com", 2, []string{"ciso@example.com", "boss@example.com"}},
		{"vip@example.com", 3, []string{"ciso@example.com", "boss@example.com", "lead1@example.com", "lead2@example.com"}},
		// Not enough anywhere: all there is (the gateway sends it to review).
		{"who@else.example", 2, []string{"security@example.com"}},
	} {
		if got := list(r.resolve(c.sender, nil, c.need)); !slices.Equal(got, c.want) {
			t.Errorf("%s need %d: %q, want %q", c.sender, c.need, got, c.want)
		}
	}
	// Nobody approves their own mail.
	if got := list(r.resolve("Lead1@example.com", nil, 3)); !slices.Equal(got, []string{"boss@example.com", "lead2@example.com", "security@example.com"}) {
		t.Errorf("self excluded: %q", got)
	}
	// A rule's own approvers are used as they are.
	if got := list(r.resolve("staff@example.com", []string{"A@example.com", "a@example.com"}, 2)); !slices.Equal(got, []string{"a@example.com"}) {
		t.Errorf("named: %q", got)
	}
}

func TestApproversDeputiesFromConfig(t *testing.T) {
	cfg := &config.Config{Hold: config.Hold{
		Approvers: map[string][]string{"*": {"boss@example.com", "cfo@example.com"}},
		Absent:    []string{"Boss@example.com", "cfo@example.com"},
		Deputies:  map[string]string{"boss@example.com": "vice@example.com", "cfo@example.com": "Boss@Example.com"},
	}}
	r := approverResolver{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	// boss → vice; cfo → boss, who is away too but is asked (one level).
	got, standIns := r.resolve("x@example.com", nil, 2)
	if !slices.Equal(got, []string{"vice@example.com", "boss@example.com"}) {
		t.Errorf("deputies: %q", got)
	}
	// boss is asked in cfo's place but is an approver in his own right.
	if len(standIns) != 1 || standIns["vice@example.com"] != "boss@example.com" {
		t.Errorf("stand-ins: %v", standIns)
	}
	cfg.Hold.Absent = []string{"ghost@example.com"}
	if got := list(r.resolve("x@example.com", []string{"ghost@example.com"}, 1)); !slices.Equal(got, []string{"ghost@example.com"}) {
		t.Errorf("absent without deputy: %q", got)
	}
}

// The company directory marks kimura absent (group 不在) and names her
// secretary kato as deputy: nakamura's approval request goes to kato.
func TestApproversDeputyFromDirectory(t *testing.T) {
	s := slapdtest.Start(t)
	l, err := directory.NewLDAP(directory.Config{URL: s.URL, BindDN: slapdtest.BindDN, Password: slapdtest.Password,
		BaseDN: slapdtest.BaseDN, GroupBaseDN: slapdtest.GroupDN, DeputyAttr: "secretary",
		// generous: under go test -race ./... on two cores a lookup has
		// taken over 2 s, and a timed-out lookup resolves to no deputy
		DialTimeout: 10 * time.Second, RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	dir := directory.New(l, directory.Options{Wait: 10 * time.Second, AbsentGroup: "不在",
		Approvers: []string{"manager", "group"}, ApproverGroup: "cn=承認者,ou=groups,dc=example,dc=com"})
	cfg := &config.Config{}
	r := approverResolver{cfg: cfg, dir: dir, log: slog.New(slog.DiscardHandler)}
	if got, standIns := r.resolve("nakamura@example.com", nil, 1); !slices.Equal(got, []string{"kato@example.com"}) || standIns["kato@example.com"] != "kimura@example.com" {
		t.Errorf("absent manager: %q %v", got, standIns)
	}
	// Two approvals: kato for kimura, then the approver group (sato, yamada).
	if got := list(r.resolve("nakamura@example.com", nil, 2)); len(got) != 3 || got[0] != "kato@example.com" || !slices.Contains(got, "sato@example.com") {
		t.Errorf("two approvals: %q", got)
	}
	// A present manager is asked herself.
	// kato's manager kimura is away and her deputy is kato himself: he
	// never approves his own mail, so kimura is asked anyway.
	if got := list(r.resolve("kato@example.com", nil, 1)); !slices.Equal(got, []string{"kimura@example.com"}) {
		t.Errorf("deputy of own manager: %q", got)
	}
	if got := list(r.resolve("suzuki@example.com", nil, 1)); !slices.Equal(got, []string{"sato@example.com"}) {
		t.Errorf("present manager: %q", got)
	}
	// The configuration overrides the directory's deputy.
	cfg.Hold.Deputies = map[string]string{"kimura@example.com": "yamada@example.com"}
	if got := list(r.resolve("nakamura@example.com", nil, 1)); !slices.Equal(got, []string{"yamada@example.com"}) {
		t.Errorf("configured deputy: %q", got)
	}
}

// list drops resolve's stand-ins.
func list(a []string, _ map[string]string) []string { return a }
