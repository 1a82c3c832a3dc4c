package disposition

import (
	"fmt"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/hold/summary"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/spool"
)

// Notifier queues notice mails (confirm links, outcomes) as spool messages
// of kind notice from the null sender, so they are as durable as mail and
// a notice never bounces back into a loop (RFC 3834 §3.3).
type Notifier struct {
	Store    *spool.Store
	Builder  *notify.Builder
	Link     func(token string) string // page URL of a token
	NewToken func() (string, [32]byte, error)
	Lang     string // "ja", "en" or "" for both
	// LangOf overrides Lang per notice recipient (nil: Lang for all).
	LangOf   func(addr string) string
	Lifetime time.Duration
}

// Prepared are notices written to the spool but not yet committed, with the
// link tokens they carry; the transition that sends them commits them.
type Prepared struct {
	queue.Notices
}

// Queued is what commits the notices (none for nil).
func (p *Prepared) Queued() queue.Notices {
	if p == nil {
		return queue.Notices{}
	}
	return p.Notices
}

// add takes over o's notices.
func (p *Prepared) add(o *Prepared) {
	if o != nil {
		p.Add(o.Notices)
	}
}

// Discard removes the notice files of notices that were not committed.
func (p *Prepared) Discard(st *spool.Store) {
	if p == nil {
		return
	}
	for _, r := range p.Mails {
		if r.Inline == nil { // an inline notice has no file
			st.RemoveBody(r.ID)
		}
	}
}

// ForHold prepares the notices of a new hold: the sender's confirm (or
// cancel, or "held for review") notice and the approvers' notices.
func (n *Notifier) ForHold(hr *hold.Record, rep *rules.Report, now time.Time) (*Prepared, error) {
	p := &Prepared{}
	sender := hr.Sender
	withLink := func(kind notify.Kind, role hold.Role, to []string) error {
		text, hash, err := n.NewToken()
		if err != nil {
			return err
		}
		tok := hold.Token{Hash: hash, MessageID: hr.ID, Role: role, CreatedAt: now, Expires: hr.Deadline}
		if role == hold.RoleApprover && len(to) == 1 {
			// Bound to the person, so N-of-M approval counts who approved.
			tok.Subject = to[0]
		}
		p.Tokens = append(p.Tokens, tok)
		return n.write(p, noticeView(kind, to, hr, rep, n.Link(text)), now)
	}
	var err error
	switch hr.Kind {
	case hold.KindSender:
		if sender != "" {
			err = withLink(notify.KindConfirm, hold.RoleSender, []string{sender})
		}
	case hold.KindDelay:
		if sender != "" {
			err = withLink(notify.KindDelay, hold.RoleSender, []string{sender})
		}
	case hold.KindApprover:
		for _, a := range hr.Approvers {
			if err = withLink(notify.KindApprove, hold.RoleApprover, []string{a}); err != nil {
				break
			}
		}
		if err == nil && sender != "" {
			err = n.write(p, noticeView(notify.KindReviewNotice, []string{sender}, hr, rep, ""), now)
		}
	case hold.KindReview:
		if sender != "" {
			err = n.write(p, noticeView(notify.KindReviewNotice, []string{sender}, hr, rep, ""), now)
		}
	}
	if err != nil {
		p.Discard(n.Store)
		return nil, err
	}
	return p, nil
}

// Decided writes the sender's notice about a hold's outcome (the state
// rec is in); the caller commits it. Whether one is due is
// queue.NoticeDue.
func (n *Notifier) Decided(rec *hold.Record, now time.Time) (*Prepared, error) {
	var kind notify.Kind
	switch rec.State {
	case hold.StateRejected:
		kind = notify.KindRejected
	case hold.StateCancelled:
		kind = notify.KindCancelled
	case hold.StateExpired:
		kind = notify.KindExpired
	case hold.StateReleased:
		kind = notify.KindReleased
	default:
		return &Prepared{}, nil
	}
	p := &Prepared{}
	if err := n.write(p, noticeView(kind, []string{rec.Sender}, rec, nil, ""), now); err != nil {
		p.Discard(n.Store)
		return nil, err
	}
	return p, nil
}

// write renders one notice and spools its bytes (fsynced).
func (n *Notifier) write(p *Prepared, nt notify.Notice, now time.Time) error {
	nt.Lang = n.Lang
	if n.LangOf != nil && len(nt.To) == 1 {
		nt.Lang = n.LangOf(nt.To[0])
	}
	data, err := n.Builder.Build(nt)
	if err != nil {
		return fmt.Errorf("build %s notice: %w", nt.Kind, err)
	}
	return spoolNotice(n.Store, p, nt.To, data, string(nt.Kind)+" notice for "+nt.Message.ID, now, n.Lifetime)
}

// noticeView is what a notice of kind shows of the hold hr (rep nil:
// the report stored with it): the values notify renders, so that it
// needs neither the hold store nor the report.
func noticeView(kind notify.Kind, to []string, hr *hold.Record, rep *rules.Report, link string) notify.Notice {
	nt := notify.Notice{Kind: kind, To: to, Message: summary.Of(hr, rep), Deadline: hr.Deadline, Link: link}
	if hr.Kind == hold.KindApprover {
		nt.Approvers = hr.Approvers
		if kind == notify.KindApprove && len(to) == 1 {
			nt.StandsInFor = hr.StandIns[to[0]]
		}
	}
	// The reason is a person's word: the sender's own click and the
	// timers record machine text ("confirmed by sender").
	if r := hr.DecidedBy.Role; r != string(hold.RoleSender) && r != hold.System.Role {
		nt.Reason = hr.Reason
	}
	return nt
}

func hasNonASCII(addrs []string) bool {
	for _, a := range addrs {
		if strings.IndexFunc(a, func(r rune) bool { return r >= 0x80 }) >= 0 {
			return true
		}
	}
	return false
}
