package notify

import (
	"fmt"
	"time"

	"github.com/sendguard/sendguard/templates"
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
	if n.Kind == KindReviewNotice && len(n.Approvers) > 0 {
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

// Notice is one notice mail to build: plain values, so that rendering
// needs neither the hold store nor the analysis report.
type Notice struct {
	Kind Kind
	// Lang is "ja" or "en"; empty writes both, the default language first.
	Lang string
	// To are the recipients' addresses (the sender, or the approvers).
	To []string
	// Message is what the notice shows of the held message
	// (summary.Of of the hold record and its report): masked
	// samples only, never a finding's value.
	Message templates.Summary
	// Approvers, on the sender's review notice of an approver hold, name
	// whose approval the message waits for.
	Approvers []string
	// StandsInFor, on an approval request to a deputy, names the absent
	// approver they are asked in place of.
	StandsInFor string
	// Link is the page the notice points to (confirm, approve or cancel);
	// required for confirm, approve and delay, ignored for the others.
	Link string
	// Deadline overrides Message.Deadline when not zero.
	Deadline time.Time
	// Reason is the word of the person who decided (a reviewer or an
	// approver) to the sender. The machine text of the sender's own click
	// or of a timer is not a reason: the caller leaves it out.
	Reason string
}

func (n *Notice) validate() error {
	switch {
	case !n.Kind.valid():
		return fmt.Errorf("%w: kind %q", ErrInvalid, n.Kind)
	case n.Lang != "" && n.Lang != "ja" && n.Lang != "en":
		return fmt.Errorf("%w: language %q", ErrInvalid, n.Lang)
	case n.Message.ID == "":
		return fmt.Errorf("%w: no message", ErrInvalid)
	case len(n.To) == 0:
		return fmt.Errorf("%w: no recipient", ErrInvalid)
	case n.Kind.needsLink() && n.Link == "":
		return fmt.Errorf("%w: %s notice without link", ErrInvalid, n.Kind)
	}
	return nil
}
