package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ruleSpec is one rule as written, with the lines needed for errors.
type ruleSpec struct {
	Name     string
	When     string
	Actions  []string
	Continue bool
	Reason   Reason
	Params   Params
	// Shadow is mode: shadow — the rule's match is recorded, not enforced.
	Shadow bool

	line, whenLine, actionsLine, paramsLine, reasonLine int
	whenStyle                                           yaml.Style
	paramLines                                          map[string]int // line of each params key
	actionLines                                         []int          // line of each action, when a list
}

// actionLine returns the line of the i-th action, or of actions itself.
func (s *ruleSpec) actionLine(i int) int {
	if i < len(s.actionLines) && len(s.actionLines) == len(s.Actions) {
		return s.actionLines[i]
	}
	return s.actionsLine
}

// paramLine returns the line of a params key, or of params itself.
func (s *ruleSpec) paramLine(key string) int {
	if l, ok := s.paramLines[key]; ok {
		return l
	}
	return s.paramsLine
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// parseFile reads the YAML structure. It reports problems and keeps going so
// that one pass lists them all.
func parseFile(data []byte, ps *problems) []*ruleSpec {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlSyntaxError(err)
		ps.add(line, "", "%s", msg)
		return nil
	}
	if len(doc.Content) == 0 {
		ps.add(0, "", "empty policy: a policy needs a rules list")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		ps.add(root.Line, "", "top level must be a mapping with a rules key")
		return nil
	}
	var (
		specs    []*ruleSpec
		sawRules bool
	)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			var ver int
			if err := v.Decode(&ver); err != nil || ver != 1 {
				ps.add(v.Line, "", "version must be 1")
			}
		case "rules":
			sawRules = true
			if v.Kind != yaml.SequenceNode {
				ps.add(v.Line, "", "rules must be a list")
				continue
			}
			for _, rn := range v.Content {
				if s := parseRule(rn, ps); s != nil {
					specs = append(specs, s)
				}
			}
		default:
			ps.add(k.Line, "", "unknown key %q (want version, rules)", k.Value)
		}
	}
	if !sawRules {
		ps.add(root.Line, "", "missing rules list")
	}
	return specs
}

func parseRule(n *yaml.Node, ps *problems) *ruleSpec {
	line := n.Line
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias // a repeated rule (- *name): problems point at the alias
	}
	if n.Kind != yaml.MappingNode {
		ps.add(n.Line, "", "a rule must be a mapping")
		return nil
	}
	s := &ruleSpec{line: line}
	// The name first, so that every later problem can name the rule.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			if err := n.Content[i+1].Decode(&s.Name); err != nil {
				ps.add(n.Content[i+1].Line, "", "name: %s", decodeMsg(err))
			}
		}
	}
	rule := s.Name
	if s.Name == "" {
		ps.add(n.Line, "", "rule without a name")
		rule = fmt.Sprintf("#line%d", n.Line)
		s.Name = rule
	} else if !nameRE.MatchString(s.Name) {
		ps.add(n.Line, rule, "name must be lower-case letters, digits, '-', '_' or '.', at most 64")
	}
	decode := func(v *yaml.Node, key string, dst any) {
		if err := v.Decode(dst); err != nil {
			ps.add(v.Line, rule, "%s: %s", key, decodeMsg(err))
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			ps.add(k.Line, rule, "duplicate key %q", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "name":
		case "description":
			var d string
			decode(v, "description", &d)
		case "when":
			decode(v, "when", &s.When)
			s.whenLine = v.Line
			s.whenStyle = v.Style
		case "actions":
			s.actionsLine = v.Line
			if v.Kind == yaml.ScalarNode { // "actions: deliver" is a natural slip
				var a string
				decode(v, "actions", &a)
				s.Actions = []string{a}
			} else {
				decode(v, "actions", &s.Actions)
				for _, item := range v.Content {
					s.actionLines = append(s.actionLines, item.Line)
				}
			}
		case "continue":
			decode(v, "continue", &s.Continue)
		case "mode":
			var m string
			decode(v, "mode", &m)
			switch m {
			case "enforce", "":
			case "shadow":
				s.Shadow = true
			default:
				ps.add(v.Line, rule, "mode must be enforce or shadow, not %q", m)
			}
		case "reason":
			s.reasonLine = v.Line
			if v.Kind == yaml.ScalarNode {
				// One text for both languages: a policy written for one
				// office need not translate.
				var text string
				decode(v, "reason", &text)
				s.Reason = Reason{JA: text, EN: text}
			} else {
				decodeStrict(v, rule, "reason", &s.Reason, ps)
			}
		case "params":
			s.paramsLine = v.Line
			decodeStrict(v, rule, "params", &s.Params, ps)
			s.paramLines = map[string]int{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				s.paramLines[v.Content[j].Value] = v.Content[j].Line
			}
		default:
			ps.add(k.Line, rule, "unknown key %q (want name, description, when, actions, continue, mode, reason, params)", k.Value)
		}
	}
	if s.whenLine == 0 {
		s.whenLine = n.Line
	}
	if s.actionsLine == 0 {
		s.actionsLine = n.Line
	}
	if s.paramsLine == 0 {
		s.paramsLine = n.Line
	}
	if s.reasonLine == 0 {
		s.reasonLine = n.Line
	}
	return s
}

// decodeStrict decodes a mapping into a struct, reporting unknown keys with
// their own line numbers.
func decodeStrict(v *yaml.Node, rule, key string, dst any, ps *problems) {
	if v.Kind != yaml.MappingNode {
		ps.add(v.Line, rule, "%s must be a mapping", key)
		return
	}
	known := yamlKeys(dst)
	for j := 0; j+1 < len(v.Content); j += 2 {
		if !known[v.Content[j].Value] {
			ps.add(v.Content[j].Line, rule, "%s: unknown key %q", key, v.Content[j].Value)
		}
	}
	if err := v.Decode(dst); err != nil {
		ps.add(v.Line, rule, "%s: %s", key, decodeMsg(err))
	}
}

// yamlKeys lists the yaml keys a params or reason value accepts.
func yamlKeys(dst any) map[string]bool {
	switch dst.(type) {
	case *Params:
		return map[string]bool{"delay_minutes": true, "encrypt_password": true, "approvers": true, "approvals_required": true}
	case *Reason:
		return map[string]bool{"ja": true, "en": true}
	}
	return nil
}

var lineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlSyntaxError splits a yaml.v3 syntax error into a 1-based line and a
// message. yaml.v3 prints scanner errors with 1-based lines but parser errors
// ("did not find expected ...") with the 0-based line of the enclosing
// construct; the latter is shifted here.
func yamlSyntaxError(err error) (int, string) {
	msg := err.Error()
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	msg = msg[len(m[0]):]
	if strings.HasPrefix(msg, "did not find expected") {
		n++
		msg += " (in the construct starting here)"
	}
	return n, msg
}

// decodeMsg shortens a yaml.v3 decode error ("yaml: unmarshal errors:\n  line
// 3: cannot unmarshal ...") to its message; the line is reported separately.
func decodeMsg(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": cannot"); i >= 0 {
		return msg[i+2:]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}
