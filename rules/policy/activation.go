package policy

import (
	"strings"

	"cel.dev/cel-go/common/functions"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/sendguard/sendguard/rules"
)

// activation binds one report to the condition variables and helpers. It is
// created per evaluation and used by one goroutine.
type activation struct {
	r      *rules.Report
	from   string
	sender string
	fns    boundFuncs // each made on first use
}

func newActivation(r *rules.Report) *activation {
	return &activation{r: r, from: strings.ToLower(r.From), sender: strings.ToLower(r.Sender)}
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varRecipients:
		return &a.r.Recipients, true
	case varFindings:
		return a.r.Findings, true
	case varAttachments:
		return a.r.Attachments, true
	case varErrors:
		return a.r.Errors, true
	case varSubject:
		return a.r.Subject, true
	case varFrom:
		return a.from, true
	case varSender:
		return a.sender, true
	case varSize:
		return a.r.Size, true
	case varDataItems:
		if a.r.DataItems == nil {
			return []string{}, true
		}
		return a.r.DataItems, true
	case varSenderDepartment, varSenderGroups, varSenderManager, varSenderDirectory:
		return a.senderDirectory(name), true
	}
	return nil, false
}

// senderDirectory reads the directory section; without one (no directory
// configured, or an offline check) the fields are empty.
func (a *activation) senderDirectory(name string) any {
	sd := a.r.SenderDirectory
	if sd == nil {
		sd = &rules.SenderDirectory{}
	}
	switch name {
	case varSenderDepartment:
		return sd.Department
	case varSenderGroups:
		if sd.Groups == nil {
			return []string{}
		}
		return sd.Groups
	case varSenderManager:
		return strings.ToLower(sd.Manager)
	}
	return sd.Status
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

// ResolveFunction implements interpreter.FunctionActivation. Every program
// resolves its late-bound functions once per evaluation; each closure is made
// on first use and shared by the rules that follow.
func (a *activation) ResolveFunction(name string) (functions.LateBoundOp, bool) {
	var slot *functions.LateBoundOp
	var build func() functions.LateBoundOp
	switch name {
	case fnFinding:
		slot, build = &a.fns.finding, func() functions.LateBoundOp { return a.finding }
	case fnHasAttachment:
		slot, build = &a.fns.hasAttachment, func() functions.LateBoundOp { return a.hasAttachment }
	case fnRecords:
		slot, build = &a.fns.records, func() functions.LateBoundOp {
			return func(string, ...ref.Val) ref.Val { return types.Int(records(a.r)) }
		}
	case fnMaxRecords:
		slot, build = &a.fns.maxRecords, func() functions.LateBoundOp {
			return func(string, ...ref.Val) ref.Val { return types.Int(maxRecords(a.r)) }
		}
	case fnUnscannable:
		slot, build = &a.fns.unscannable, func() functions.LateBoundOp {
			return func(string, ...ref.Val) ref.Val { return types.Int(unscannable(a.r)) }
		}
	case fnPeople:
		slot, build = &a.fns.people, func() functions.LateBoundOp {
			return func(string, ...ref.Val) ref.Val { return types.Int(a.r.People) }
		}
	case fnAllowance:
		slot, build = &a.fns.allowance, func() functions.LateBoundOp { return a.allowance }
	case fnUnusualHour, fnVolumeRatio, fnFirstExternalAtt, fnHistoryDays:
		slot, build = &a.fns.behaviour, func() functions.LateBoundOp { return a.behaviour }
	default:
		return nil, false
	}
	if *slot == nil {
		*slot = build()
	}
	return *slot, true
}

// boundFuncs are the helper implementations bound to one report.
type boundFuncs struct {
	finding, hasAttachment, records, maxRecords, unscannable, people, allowance, behaviour functions.LateBoundOp
}

func (a *activation) finding(overload string, args ...ref.Val) ref.Val {
	name, ok := args[0].(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(args[0])
	}
	prefix := ""
	if overload == ovFindingAt {
		p, ok := args[1].(types.String)
		if !ok {
			return types.MaybeNoSuchOverloadErr(args[1])
		}
		prefix = string(p)
	}
	return types.Int(findingCount(a.r, string(name), prefix))
}

func (a *activation) hasAttachment(overload string, args ...ref.Val) ref.Val {
	if overload != ovHasAttachmentEx {
		return types.Bool(len(a.r.Attachments) > 0)
	}
	ext, ok := args[0].(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(args[0])
	}
	for _, at := range a.r.Attachments {
		if hasSuffixFold(at.Name, string(ext)) {
			return types.True
		}
	}
	return types.False
}

// findingCount is the number of distinct values detector name found in the
// locations starting with prefix. Findings that carry their values are merged
// by value (the same card number in the body and an attachment counts once);
// the others add their counts. See findingMatches for the names.
func findingCount(r *rules.Report, name, prefix string) int {
	var (
		n    int
		seen map[string]struct{}
	)
	for i := range r.Findings {
		f := &r.Findings[i]
		if !findingMatches(f, name) || !strings.HasPrefix(f.Location, prefix) {
			continue
		}
		if len(f.Values) == 0 {
			n += f.Count
			continue
		}
		if seen == nil {
			seen = make(map[string]struct{}, len(f.Values))
		}
		for _, v := range f.Values {
			seen[v] = struct{}{}
		}
	}
	return n + len(seen)
}

// records sums, over locations, the largest row count any detector reported
// there: one CSV row with a name, a phone and an address is one record.
func records(r *rules.Report) int {
	perLoc := map[string]int{}
	for _, f := range r.Findings {
		if f.Records > perLoc[f.Location] {
			perLoc[f.Location] = f.Records
		}
	}
	n := 0
	for _, v := range perLoc {
		n += v
	}
	return n
}

func maxRecords(r *rules.Report) int {
	m := 0
	for _, f := range r.Findings {
		m = max(m, f.Records)
	}
	return m
}

// unscannable counts the distinct locations that could not be read, whether
// reported as an unscannable finding or on the attachment.
func unscannable(r *rules.Report) int {
	locs := map[string]struct{}{}
	for _, f := range r.Findings {
		if f.Detector == rules.DetectorUnscannable {
			locs[f.Location] = struct{}{}
		}
	}
	for _, at := range r.Attachments {
		if at.Unscannable != "" {
			locs[at.Location] = struct{}{}
		}
	}
	return len(locs)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// findingMatches: name is a detector ("mynumber", "keyword",
// "pattern:project_code"), "keyword:X" for keyword findings of the
// dictionary or level X, or "pattern" for every custom pattern.
func findingMatches(f *rules.Finding, name string) bool {
	if f.Detector == name {
		return true
	}
	if x, ok := strings.CutPrefix(name, "keyword:"); ok {
		return f.Detector == "keyword" && (f.Level == x || f.Dictionary == x)
	}
	return name == "pattern" && strings.HasPrefix(f.Detector, "pattern:")
}
