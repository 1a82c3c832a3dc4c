package policy

import (
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// allowance is allowance(name, default): the sender's per-group allowance
// called name (the largest among their directory groups), or default when
// none of their groups has one, the directory has no answer, or no
// directory is configured. So a rule written as
// `recipients.visible_external > allowance("visible_external", 9)` is the
// plain `>= 10` rule until a group is given more.
func (a *activation) allowance(_ string, args ...ref.Val) ref.Val {
	name, ok := args[0].(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(args[0])
	}
	def, ok := args[1].(types.Int)
	if !ok {
		return types.MaybeNoSuchOverloadErr(args[1])
	}
	if sd := a.r.SenderDirectory; sd != nil {
		if v, ok := sd.Allowances[string(name)]; ok {
			return types.Int(v)
		}
	}
	return def
}
