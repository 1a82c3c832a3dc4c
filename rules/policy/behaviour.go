package policy

import (
	"fmt"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/sendguard/sendguard/rules"
)

// Sender-behaviour thresholds and floors (see the package doc).
const (
	// UnusualHourShare: an hour is unusual for a sender when fewer than
	// this share of their past messages were sent within an hour of it.
	UnusualHourShare = 0.05
	// The usual amounts a volume ratio divides by are at least these, so
	// that a sender whose usual is nothing gets the plain amount.
	minPerHour          = 1
	minPerDayExternal   = 1
	minPerDayAttachment = 1 << 20
)

// Volume kinds of sender.volume_ratio(kind).
const (
	VolumeMessages                = "messages"
	VolumeExternalRecipients      = "external_recipients"
	VolumeExternalAttachmentBytes = "external_attachment_bytes"
)

// behaviour implements the sender.* behaviour helpers. Without a baseline
// (nil) or before it is established they answer false / 0.0: too little
// history never flags anyone.
func (a *activation) behaviour(overload string, args ...ref.Val) ref.Val {
	b := a.r.SenderBehaviour
	switch overload {
	case ovHistoryDays:
		if b == nil {
			return types.Int(0)
		}
		return types.Int(b.Days)
	case ovUnusualHour:
		return types.Bool(b != nil && b.Established && b.HourShare < UnusualHourShare)
	case ovFirstExternal:
		return types.Bool(b != nil && b.Established && b.ExternalAttachments == 0 &&
			a.r.Recipients.External > 0 && len(a.r.Attachments) > 0)
	case ovVolumeRatio, ovVolumeRatioOf:
		kind := VolumeMessages
		if overload == ovVolumeRatioOf {
			s, ok := args[0].(types.String)
			if !ok {
				return types.MaybeNoSuchOverloadErr(args[0])
			}
			kind = string(s)
		}
		v, err := VolumeRatio(a.r, kind)
		if err != nil {
			return types.NewErr("%v", err)
		}
		return types.Double(v)
	}
	return types.NewErr("unknown overload %s", overload)
}

// VolumeRatio is sender.volume_ratio(kind) over r: this hour's messages
// (this one included) over the usual per hour, today's external
// recipients over the usual per day, or today's attachment bytes in mail
// to external recipients over the usual per day; 0 without an
// established baseline.
func VolumeRatio(r *rules.Report, kind string) (float64, error) {
	b := r.SenderBehaviour
	var now, usual, floor float64
	switch kind {
	case VolumeMessages:
		if b != nil {
			now, usual = float64(b.HourMessages+1), b.PerHour
		}
		floor = minPerHour
	case VolumeExternalRecipients:
		if b != nil {
			now, usual = float64(b.DayExternal+r.Recipients.External), b.PerDayExternal
		}
		floor = minPerDayExternal
	case VolumeExternalAttachmentBytes:
		if b != nil {
			now, usual = float64(b.DayAttachmentBytes+ExternalAttachmentBytes(r)), b.PerDayAttachmentBytes
		}
		floor = minPerDayAttachment
	default:
		return 0, fmt.Errorf("sender.volume_ratio: unknown kind %q (messages, external_recipients, external_attachment_bytes)", kind)
	}
	if b == nil || !b.Established {
		return 0, nil
	}
	return now / max(usual, floor), nil
}

// ExternalAttachmentBytes is the decoded size of a message's top-level
// attachments when it has an external recipient, else 0. The baseline
// counts the same.
func ExternalAttachmentBytes(r *rules.Report) int64 {
	if r.Recipients.External == 0 {
		return 0
	}
	var n int64
	for _, at := range r.Attachments {
		if at.Depth == 0 {
			n += max(at.Size, 0)
		}
	}
	return n
}

// checkVolumeKinds reports a sender.volume_ratio(kind) whose kind is a
// constant the helper does not know, at load time rather than as a
// run-time error that would hold mail.
func checkVolumeKinds(a *cel.Ast) []string {
	var bad []string
	nav := celast.NavigateAST(a.NativeRep())
	for _, e := range celast.MatchDescendants(nav, celast.FunctionMatcher(fnVolumeRatio)) {
		for _, arg := range e.AsCall().Args() {
			if arg.Kind() != celast.LiteralKind {
				continue
			}
			s, ok := arg.AsLiteral().(types.String)
			if !ok {
				continue
			}
			switch string(s) {
			case VolumeMessages, VolumeExternalRecipients, VolumeExternalAttachmentBytes:
			default:
				bad = append(bad, string(s))
			}
		}
	}
	return bad
}
