package notify

import (
	"fmt"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
)

// Kind is the type of notice.
type Kind string

// Notice kinds.
const (
	KindConfirm      Kind = "confirm"       // to the sender, with the confirm link
	KindApprove      Kind = "approve"       // to approvers, with the approve link
	KindReviewNotice Kind = "review_notice" // to the sender: held for the security team
	KindDelay        Kind = "delay"         // to the sender: sent later unless cancelled
	KindCancelled    Kind = "cancelled"
	KindRejected     Kind = "rejected"
	KindExpired      Kind = "expired"
	KindReleased     Kind = "released"
)

// kindApproverNotice is how a review notice reads when the message waits
// for the sender's approvers rather than the security team: the sender is
// told who must act.
const kindApproverNotice Kind = "approver_notice"

// textKind is the catalog kind a notice is written with.
func (n *Notice) textKind() Kind {
	if n.Kind == KindReviewNotice && n.Hold.Kind == hold.KindApprover && len(n.Hold.Approvers) > 0 {
		return kindApproverNotice
	}
	return n.Kind
}

var kinds = [...]Kind{KindConfirm, KindApprove, KindReviewNotice, KindDelay, KindCancelled, KindRejected, KindExpired, KindReleased}

func (k Kind) valid() bool {
	for _, v := range kinds {
		if k == v {
			return true
		}
	}
	return false
}

// needsLink reports whether a notice of kind k is useless without its link.
func (k Kind) needsLink() bool { return k == KindConfirm || k == KindApprove || k == KindDelay }

// detailed reports whether the notice lists recipients, attachments and
// reasons; outcome notices only name the message.
func (k Kind) detailed() bool {
	return k == KindConfirm || k == KindApprove || k == KindReviewNotice || k == KindDelay
}

// Notice is one notice mail to build.
type Notice struct {
	Kind Kind
	// Lang is "ja" or "en"; empty writes both, Japanese first.
	Lang string
	// To are the recipients' addresses (the sender, or the approvers).
	To   []string
	Hold *hold.Record
	// Report is the analysis report; nil decodes Hold.Report.
	Report *rules.Report
	// Link is the page the notice points to (confirm, approve or cancel);
	// required for confirm, approve and delay, ignored for the others.
	Link string
	// Deadline overrides Hold.Deadline when not zero.
	Deadline time.Time
	// Reason is the reviewer's reason of a rejection (or any decision).
	Reason string
}

func (n *Notice) validate() error {
	switch {
	case !n.Kind.valid():
		return fmt.Errorf("%w: kind %q", ErrInvalid, n.Kind)
	case n.Lang != "" && n.Lang != "ja" && n.Lang != "en":
		return fmt.Errorf("%w: language %q", ErrInvalid, n.Lang)
	case n.Hold == nil:
		return fmt.Errorf("%w: no hold record", ErrInvalid)
	case len(n.To) == 0:
		return fmt.Errorf("%w: no recipient", ErrInvalid)
	case n.Kind.needsLink() && n.Link == "":
		return fmt.Errorf("%w: %s notice without link", ErrInvalid, n.Kind)
	}
	return nil
}
