package policy

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/sendguard/sendguard/rules"
)

// maxDelayMinutes bounds delay_minutes (one week).
const maxDelayMinutes = 7 * 24 * 60

// maxApprovalsRequired bounds an N-of-M quorum; more is a typo.
const maxApprovalsRequired = 10

// Policy is a loaded, compiled policy. Create it with Parse, Load or Default.
type Policy struct {
	rules []*rule
}

// rule is one compiled rule.
type rule struct {
	name    string
	when    string
	prog    cel.Program
	always  bool // condition is the literal true
	actions []string
	// actionIdx are the actions as indexes into actionOrder, for combine.
	actionIdx []int
	cont      bool
	shadow    bool // recorded in Decision.Shadow, never enforced
	reason    Reason
	params    Params
}

func (r *rule) has(action string) bool {
	for _, a := range r.actions {
		if a == action {
			return true
		}
	}
	return false
}

// Load reads and compiles a policy file.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse compiles a policy. name labels problems (usually the file name). On
// failure the error is a *LoadError listing every problem with its line.
func Parse(name string, data []byte) (*Policy, error) {
	ps := &problems{file: name}
	specs := parseFile(data, ps)
	src := bytes.Split(data, []byte("\n"))
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	p := &Policy{}
	names := map[string]int{}
	var alwaysRule string
	for _, s := range specs {
		if line, dup := names[s.Name]; dup {
			ps.add(s.line, s.Name, "duplicate rule name (first at line %d)", line)
		}
		names[s.Name] = s.line
		if alwaysRule != "" {
			ps.add(s.line, s.Name, "unreachable: rule %q before it always matches", alwaysRule)
		}
		validateActions(s, ps)
		r := &rule{name: s.Name, when: s.When, actions: s.Actions, cont: s.Continue, shadow: s.Shadow, reason: s.Reason, params: s.Params}
		r.reason.Rule = s.Name
		for _, a := range s.Actions {
			if i := actionIndex(a); i >= 0 && !slices.Contains(r.actionIdx, i) {
				r.actionIdx = append(r.actionIdx, i)
			}
		}
		r.prog, r.always = compile(env, s, src, ps)
		if r.always && !r.cont && !r.shadow && alwaysRule == "" {
			alwaysRule = s.Name
		}
		p.rules = append(p.rules, r)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// compile type-checks a condition and plans its program.
func compile(env *cel.Env, s *ruleSpec, src [][]byte, ps *problems) (cel.Program, bool) {
	when := strings.TrimSpace(s.When)
	if when == "" {
		ps.add(s.whenLine, s.Name, "when is required (write \"true\" to always match)")
		return nil, false
	}
	ast, iss := env.Compile(s.When)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			line := s.whenSourceLine(src, e.Location.Line(), e.Location.Column())
			ps.add(line, s.Name, "when: %s (line %d, column %d of the condition)", e.Message, e.Location.Line(), e.Location.Column()+1)
		}
		return nil, false
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		ps.add(s.whenLine, s.Name, "when must be a boolean condition, not %s", ast.OutputType())
		return nil, false
	}
	if bad := checkVolumeKinds(ast); len(bad) > 0 {
		ps.add(s.whenLine, s.Name, "when: sender.volume_ratio: unknown kind %q (messages, external_recipients, external_attachment_bytes)", bad[0])
		return nil, false
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		ps.add(s.whenLine, s.Name, "when: %v", err)
		return nil, false
	}
	return prg, when == "true"
}

// validateActions checks the actions, their combination and their params.
func validateActions(s *ruleSpec, ps *problems) {
	line := s.actionsLine
	if len(s.Actions) == 0 {
		ps.add(line, s.Name, "actions: at least one action is required")
		return
	}
	seen := map[string]bool{}
	var holds []string
	for i, a := range s.Actions {
		switch {
		case actionIndex(a) < 0:
			ps.add(s.actionLine(i), s.Name, "actions: unknown action %q (want one of %s)", a, strings.Join(actionOrder, ", "))
		case seen[a]:
			ps.add(s.actionLine(i), s.Name, "actions: %s listed twice", a)
		case isHold(a):
			holds = append(holds, a)
		}
		seen[a] = true
	}
	if seen[rules.ActionReject] && len(s.Actions) > 1 {
		ps.add(line, s.Name, "actions: reject cannot be combined with other actions")
	}
	if seen[rules.ActionDeliver] && len(s.Actions) > 1 {
		ps.add(line, s.Name, "actions: deliver cannot be combined with other actions (bcc, encrypt and link deliver by themselves)")
	}
	if len(holds) > 1 {
		ps.add(line, s.Name, "actions: only one hold kind per rule, got %s", strings.Join(holds, " and "))
	}
	if seen[rules.ActionEncrypt] && seen[rules.ActionLink] {
		ps.add(line, s.Name, "actions: encrypt and link both replace attachments; choose one")
	}

	_, hasDelay := s.paramLines["delay_minutes"]
	switch {
	case hasDelay && !seen[rules.ActionDelay]:
		ps.add(s.paramLine("delay_minutes"), s.Name, "params: delay_minutes needs the delay action")
	case seen[rules.ActionDelay] && !hasDelay:
		ps.add(s.paramsLine, s.Name, "params: the delay action needs delay_minutes")
	case seen[rules.ActionDelay] && (s.Params.DelayMinutes < 1 || s.Params.DelayMinutes > maxDelayMinutes):
		ps.add(s.paramLine("delay_minutes"), s.Name, "params: delay_minutes must be between 1 and %d", maxDelayMinutes)
	}
	switch s.Params.EncryptPassword {
	case "":
	case rules.PasswordSender, rules.PasswordRecipient, rules.PasswordPreset:
		if !seen[rules.ActionEncrypt] {
			ps.add(s.paramLine("encrypt_password"), s.Name, "params: encrypt_password needs the encrypt action")
		}
	default:
		ps.add(s.paramLine("encrypt_password"), s.Name, "params: encrypt_password must be sender, recipient or preset")
	}
	if len(s.Params.Approvers) > 0 && !seen[rules.ActionHoldApprover] {
		ps.add(s.paramLine("approvers"), s.Name, "params: approvers need the hold_approver action")
	}
	switch n := s.Params.ApprovalsRequired; {
	case n != 0 && !seen[rules.ActionHoldApprover]:
		ps.add(s.paramLine("approvals_required"), s.Name, "params: approvals_required needs the hold_approver action")
	case n < 0 || n > maxApprovalsRequired:
		ps.add(s.paramLine("approvals_required"), s.Name, "params: approvals_required must be between 1 and %d", maxApprovalsRequired)
	case len(s.Params.Approvers) > 0 && n > len(s.Params.Approvers):
		ps.add(s.paramLine("approvals_required"), s.Name, "params: approvals_required %d is more than the %d approvers named", n, len(s.Params.Approvers))
	}
	for _, a := range s.Params.Approvers {
		if m, err := mail.ParseAddress(a); err != nil || m.Name != "" {
			ps.add(s.paramLine("approvers"), s.Name, "params: approver %q is not an address", a)
		}
	}

	rl := s.reasonLine
	if !seen[rules.ActionDeliver] && s.Reason.JA == "" && s.Reason.EN == "" {
		ps.add(rl, s.Name, "reason: a rule that stops or changes mail needs a reason (ja, en)")
	}
	if seen[rules.ActionReject] {
		if s.Reason.EN == "" {
			ps.add(rl, s.Name, "reason: reject needs reason.en (sent in the SMTP reply)")
		} else if !smtpSafe(s.Reason.EN) {
			ps.add(rl, s.Name, "reason: reason.en must be printable ASCII on one line, at most 400 characters (sent in the SMTP reply)")
		}
	}
}

// smtpSafe reports whether text can go into an SMTP reply line.
func smtpSafe(s string) bool {
	if len(s) > 400 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// RuleNames returns the rule names in order.
func (p *Policy) RuleNames() []string {
	out := make([]string, len(p.rules))
	for i, r := range p.rules {
		out[i] = r.name
	}
	return out
}

// RuleInfo describes one loaded rule, for display (console, config check).
type RuleInfo struct {
	Name     string   `json:"name"`
	When     string   `json:"when"`
	Actions  []string `json:"actions"`
	Continue bool     `json:"continue,omitempty"`
	Shadow   bool     `json:"shadow,omitempty"`
	Reason   Reason   `json:"reason"`
	Params   Params   `json:"params"`
}

// Rules describes the loaded rules in order. The result is a copy.
func (p *Policy) Rules() []RuleInfo {
	out := make([]RuleInfo, len(p.rules))
	for i, r := range p.rules {
		out[i] = RuleInfo{
			Name: r.name, When: r.when, Actions: slices.Clone(r.actions), Continue: r.cont, Shadow: r.shadow, Reason: r.reason,
			Params: Params{DelayMinutes: r.params.DelayMinutes, EncryptPassword: r.params.EncryptPassword, Approvers: slices.Clone(r.params.Approvers), ApprovalsRequired: r.params.ApprovalsRequired},
		}
	}
	return out
}

// Evaluate decides what happens to the message a report describes. It never
// fails: see the package doc for how run-time errors count.
func (p *Policy) Evaluate(report *rules.Report) Decision {
	if report == nil {
		report = &rules.Report{}
	}
	act := newActivation(report)
	var (
		matched []*rule
		shadow  []Shadow
		errs    []string
	)
	for _, r := range p.rules {
		ok, err := r.eval(act)
		if err != nil {
			errs = append(errs, fmt.Sprintf("rule %q: %v", r.name, err))
			// A failing shadow rule is not enforced either: only live
			// rules fail closed.
			ok = !r.shadow
		}
		if !ok {
			continue
		}
		if r.shadow {
			// Recorded as it would have acted; evaluation goes on as if
			// it had not matched.
			shadow = append(shadow, Shadow{Rule: r.name, Actions: r.actions})
			continue
		}
		matched = append(matched, r)
		if !r.cont {
			break
		}
	}
	d := combine(matched)
	expandReasons(&d, report)
	d.Errors = errs
	d.Shadow = shadow
	return d
}

var errNotBool = errors.New("condition did not yield a boolean")

func (r *rule) eval(act *activation) (bool, error) {
	if r.always {
		return true, nil
	}
	out, _, err := r.prog.Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, errNotBool
	}
	return bool(b), nil
}
