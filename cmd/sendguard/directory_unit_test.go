package main

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/directory"
)

// people is a fixed directory.Source.
type people map[string]*directory.Person

func (p people) Lookup(_ context.Context, addr string) (*directory.Person, error) {
	if x, ok := p[addr]; ok {
		return x, nil
	}
	return nil, directory.ErrNotFound
}
func (people) Members(context.Context, string) ([]string, error) { return nil, errors.New("no groups") }
func (people) Ping(context.Context) error                        { return nil }

// The exact-address entry of hold.approvers overrides the directory; the
// directory's manager comes before @domain and "*".
func TestApproversPrecedence(t *testing.T) {
	cfg := &config.Config{Hold: config.Hold{Approvers: map[string][]string{
		"vip@example.com": {"ciso@example.com"},
		"@example.com":    {"domain-lead@example.com"},
		"*":               {"security@example.com"},
	}}}
	dir := directory.New(people{
		"vip@example.com":   {Manager: "boss@example.com"},
		"staff@example.com": {Manager: "boss@example.com"},
		"nomgr@example.com": {},
		"ext@other.example": {Manager: "x@other.example"},
	}, directory.Options{})
	of := func(sender string) []string {
		return list(approverResolver{cfg: cfg, dir: dir, log: slog.New(slog.DiscardHandler)}.resolve(sender, nil, 1))
	}
	for sender, want := range map[string]string{
		"VIP@example.com":    "ciso@example.com",
		"staff@example.com":  "boss@example.com",
		"nomgr@example.com":  "domain-lead@example.com",
		"nobody@example.com": "domain-lead@example.com",
		"who@else.example":   "security@example.com",
		"ext@other.example":  "x@other.example",
	} {
		if got := of(sender); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: %q, want %s", sender, got, want)
		}
	}
	if got := list((approverResolver{cfg: cfg, log: slog.New(slog.DiscardHandler)}).resolve("staff@example.com", nil, 1)); !slices.Equal(got, []string{"domain-lead@example.com"}) {
		t.Errorf("without a directory: %q", got)
	}
}
