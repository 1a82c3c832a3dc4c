package policy

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a policy file.
type Problem struct {
	File string // file name as given to Parse
	Line int    // 1-based YAML line, 0 when unknown
	Rule string // rule name, if the problem is inside a rule
	Msg  string
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", p.Rule)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// LoadError lists every problem found in a policy file, in line order.
type LoadError struct {
	Problems []*Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return "invalid policy:\n  " + strings.Join(lines, "\n  ")
}

// Unwrap exposes each problem to errors.As.
func (e *LoadError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// problems collects Problems for one file.
type problems struct {
	file string
	list []*Problem
}

func (ps *problems) add(line int, rule, format string, args ...any) {
	ps.list = append(ps.list, &Problem{File: ps.file, Line: line, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool { return ps.list[i].Line < ps.list[j].Line })
	return &LoadError{Problems: ps.list}
}
