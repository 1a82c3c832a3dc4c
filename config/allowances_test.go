package config

import (
	"strings"
	"testing"
)

func TestAllowances(t *testing.T) {
	c := &Config{Allowances: map[string]map[string]int{
		"visible_external":         {"営業部": 30, "全社員": 12, "Sales-Tokyo": 50},
		"visible_external_domains": {"営業部": 10},
	}}
	got := c.AllowancesFor([]string{"全社員", "営業部"})
	if got["visible_external"] != 30 || got["visible_external_domains"] != 10 || len(got) != 2 {
		t.Errorf("sales: %v", got)
	}
	if got := c.AllowancesFor([]string{"sales-tokyo"}); got["visible_external"] != 50 || len(got) != 1 {
		t.Errorf("case-insensitive group: %v", got)
	}
	if got := c.AllowancesFor([]string{"経理部"}); got != nil {
		t.Errorf("no group: %v", got)
	}

	v := &validator{}
	bad := &Config{Allowances: map[string]map[string]int{"Visible-External": {"営業部": -1, " ": 3}}}
	v.checkAllowances(bad)
	msg := strings.Join(func() []string {
		var out []string
		for _, p := range v.problems {
			out = append(out, p.Key+": "+p.Msg)
		}
		return out
	}(), "\n")
	for _, want := range []string{"allowances: groups come from the directory", "allowances.Visible-External: name must be",
		"allowances.Visible-External.営業部: must not be negative", "a group name is empty"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in\n%s", want, msg)
		}
	}
}
