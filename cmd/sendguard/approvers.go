package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/directory"
)

// approverResolver names who is asked to approve a hold_approver message:
// the sources in order (hold.approvers for the exact sender, the
// directory's manager and approver group, hold.approvers for @domain and
// "*"), enough of them for the approvals required, each absent approver
// replaced by their deputy.
type approverResolver struct {
	cfg *config.Config
	dir *directory.Directory // nil without a directory
	log *slog.Logger
}

// resolve returns the approvers of a message from sender: named (the
// rule's own approvers) when there are any, else gathered from the
// sources. One approval needed takes the first source that names anyone,
// as always; N gathers source after source until there are N distinct
// approvers (fewer means the caller sends the message to review).
func (r approverResolver) resolve(sender string, named []string, need int) ([]string, map[string]string) {
	sender = strings.ToLower(strings.TrimSpace(sender))
	var out []string
	add := func(list []string) {
		for _, a := range list {
			a = strings.ToLower(strings.TrimSpace(a))
			if a != "" && a != sender && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	enough := func() bool { return len(out) > 0 && len(out) >= need }
	if len(named) > 0 {
		add(named)
	} else {
		for _, src := range r.sources(sender) {
			add(src)
			if enough() {
				break
			}
		}
	}
	return r.withDeputies(sender, out)
}

// sources lists the approver sources for sender in order of precedence.
func (r approverResolver) sources(sender string) [][]string {
	s := strings.ToLower(sender)
	m := r.cfg.Hold.Approvers
	var out [][]string
	if a, ok := m[s]; ok {
		out = append(out, a)
	}
	if r.dir != nil {
		out = append(out, r.dir.ApproverSources(context.Background(), sender)...)
	}
	if _, dom, ok := strings.Cut(s, "@"); ok {
		if a, ok := m["@"+dom]; ok {
			out = append(out, a)
		}
	}
	if a, ok := m["*"]; ok {
		out = append(out, a)
	}
	return out
}

// withDeputies replaces every absent approver (hold.absent, or a member of
// directory.absent_group) by their deputy (hold.deputies, else the
// directory's deputy attribute). An absent approver without a deputy
// stays (they may still answer) and is logged. One level only: a deputy
// is asked even if away too, so the request always reaches someone.
func (r approverResolver) withDeputies(sender string, approvers []string) ([]string, map[string]string) {
	out := make([]string, 0, len(approvers))
	var standIns map[string]string
	for _, a := range approvers {
		absent, deputy := r.standing(a)
		switch {
		case !absent:
		case deputy == "" || deputy == sender:
			r.log.Warn("approver is absent and has no other deputy; asking them anyway", "approver", a)
		default:
			r.log.Info("approver is absent; asking their deputy", "approver", a, "deputy", deputy)
			if !slices.Contains(approvers, deputy) {
				if standIns == nil {
					standIns = map[string]string{}
				}
				if _, ok := standIns[deputy]; !ok {
					standIns[deputy] = a
				}
			}
			a = deputy
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, standIns
}

// standing says whether approver a is away and who stands in for them;
// the configuration overrides the directory.
func (r approverResolver) standing(a string) (absent bool, deputy string) {
	absent = slices.ContainsFunc(r.cfg.Hold.Absent, func(x string) bool { return strings.EqualFold(x, a) })
	for k, v := range r.cfg.Hold.Deputies {
		if strings.EqualFold(k, a) {
			deputy = strings.ToLower(strings.TrimSpace(v))
		}
	}
	if r.dir != nil && (!absent || deputy == "") {
		st := r.dir.Standing(context.Background(), a)
		absent = absent || st.Absent
		if deputy == "" {
			deputy = st.Deputy
		}
	}
	return absent, deputy
}
