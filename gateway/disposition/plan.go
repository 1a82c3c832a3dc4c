package disposition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/rewrite"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/profile"
	"github.com/sendguard/sendguard/spool"
)

// Rewrites are the changes a plan makes to a message before it leaves, in
// the order they apply: Bcc conversion, attachments to download links,
// attachments to an encrypted zip.
type Rewrites struct {
	Bcc     bool
	Link    bool
	Encrypt bool
	// Password is how the zip's password travels (the policy's
	// encrypt_password, validated against the same values).
	Password rules.PasswordDelivery
	// OnAccept: the result is committed by the message's acceptance
	// (spool.Store.Accept), whose group commit fsyncs the spool directory
	// after every file made here is fsynced and before the record naming
	// them commits, so Apply need not fsync it itself; and the ID is
	// fresh, so a small encrypted copy can be kept inline in the record.
	OnAccept bool
}

// Any reports whether anything is rewritten.
func (r Rewrites) Any() bool { return r.Bcc || r.Link || r.Encrypt }

// AcceptRewrites are the rewrites of a decision that does not hold.
func AcceptRewrites(actions []string, password rules.PasswordDelivery) Rewrites {
	return Rewrites{Bcc: slices.Contains(actions, rules.ActionBcc), Link: slices.Contains(actions, rules.ActionLink),
		Encrypt: slices.Contains(actions, rules.ActionEncrypt), Password: password}
}

// ReleaseRewrites are the rewrites of a release: what the decision asked
// for plus what the release mode adds. An encrypt release keeps the
// attachments in the mail (zipped) instead of linking them.
func ReleaseRewrites(actions []string, mode hold.ReleaseMode) Rewrites {
	r := AcceptRewrites(actions, rules.PasswordSender)
	r.Bcc = r.Bcc || mode == hold.ModeBcc
	r.Encrypt = r.Encrypt || mode == hold.ModeEncrypt
	r.Link = r.Link && mode != hold.ModeEncrypt
	return r
}

// Message names a spooled message and the envelope the rewrites need.
type Message struct {
	ID      string
	Sender  string
	Rcpts   []string
	Subject string
}

// Applied is what applying rewrites produced: files in the spool and
// notices not yet committed. Commit records it on the message in the
// transaction that makes it count; Discard undoes it otherwise.
type Applied struct {
	// Suffix names the derived copy delivered instead of the body.
	Suffix string
	// RcptBodies gives recipients their own copy (ID.suffix).
	RcptBodies map[string]string
	// Actions are the rewrites really done (a message without
	// attachments is not encrypted).
	Actions []string
	Notices *Prepared
	// Package is the link package created, if any.
	Package string
	// RequireTLS lists recipients whose domain's profile requires TLS.
	RequireTLS map[string]bool
	// Inline holds the bytes of the copy Suffix names when it is kept in
	// the record instead of a spool file (acceptance only).
	Inline []byte

	id string
}

// Record points rec (in memory) at the copies to deliver.
func (a *Applied) Record(rec *spool.Record) {
	if a == nil {
		return
	}
	rec.BodySuffix = a.Suffix
	if a.Inline != nil {
		rec.InlineCopy, rec.InlineSuffix = a.Inline, a.Suffix
	}
	rec.SetRcptBodies(a.RcptBodies)
	applyRequireTLS(rec, a.RequireTLS)
}

// Rewriter applies Rewrites: the one implementation used on acceptance and
// on release.
type Rewriter struct {
	Store     *spool.Store
	Internal  func(domain string) bool // every other domain is external
	Encryptor *Encryptor               // nil: encrypt is not available
	Linker    *Linker                  // nil: link is not available
	// Profiles, if set, protect each recipient group as its domain's
	// profile says (profiles.go); nil applies the policy's action to all.
	// SetProfiles replaces them on a reload.
	Profiles *profile.Table
	live     atomic.Pointer[profile.Table]

	// Fault, if set (tests),, is asked after each rewrite; an error stops
	// there as kill -9 would, leaving every file behind.
	Fault func(point string) error
}

func (w *Rewriter) crash(point string) error {
	if w.Fault != nil && w.Fault(point) != nil {
		return errFault{point}
	}
	return nil
}

// Apply runs the rewrites on message m. It can run again after a crash or
// a failure: every derived file is written afresh, and link packages and
// notices from an attempt that did not commit are discarded by Discard
// or, after a crash, by DiscardStale and the spool's reconciliation.
// On error nothing it made is left.
func (w *Rewriter) Apply(ctx context.Context, m Message, rw Rewrites, now time.Time) (out *Applied, err error) {
	out = &Applied{RcptBodies: map[string]string{}, Notices: &Prepared{}, id: m.ID}
	defer func() {
		if err != nil {
			if !IsFault(err) {
				w.Discard(out)
			}
			out = nil
		}
	}()
	if rw.Bcc {
		if err := writeBcc(w.Store, m.ID, w.Internal); err != nil {
			return out, err
		}
		out.Suffix = "bcc"
		out.Actions = append(out.Actions, rules.ActionBcc)
		if err := w.crash("bcc written"); err != nil {
			return out, err
		}
	}
	if groups := w.groups(m, rw); groups != nil {
		if err := w.applyGroups(ctx, m, rw, groups, now, out); err != nil {
			return out, err
		}
		if rw.OnAccept {
			return out, nil
		}
		return out, w.syncApplied(out)
	}
	if rw.Link {
		if w.Linker == nil {
			return out, errors.New("download links are not configured")
		}
		ln, err := w.Linker.Apply(ctx, m.ID, out.Suffix, m.Sender, m.Rcpts, m.Subject, now)
		switch {
		case errors.Is(err, rewrite.ErrNoAttachments):
		case err != nil:
			return out, fmt.Errorf("replace attachments by links: %w", err)
		default:
			out.RcptBodies, out.Package = ln.RcptBodies, ln.PackageID
			out.Notices.add(ln.Notices)
			out.Actions = append(out.Actions, rules.ActionLink)
			if err := w.crash("links created"); err != nil {
				return out, err
			}
		}
	}
	if rw.Encrypt {
		if w.Encryptor == nil {
			return out, errors.New("encryption is not configured")
		}
		e := w.Encryptor
		if rw.OnAccept && out.Suffix == "" {
			// From the body as received only: with a Bcc copy in a file
			// the acceptance fsyncs the directory anyway.
			c := *e
			c.inline = true
			e = &c
		}
		enc, err := e.Apply(m.ID, out.Suffix, m.Sender, m.Rcpts, m.Subject, rw.Password, now)
		switch {
		case errors.Is(err, ErrNothingToEncrypt):
		case err != nil:
			return out, fmt.Errorf("encrypt attachments: %w", err)
		default:
			out.Suffix, out.Inline = enc.Suffix, enc.Inline
			out.Notices.add(enc.Notices)
			out.Actions = append(out.Actions, rules.ActionEncrypt)
			if err := w.crash("zip written"); err != nil {
				return out, err
			}
		}
	}
	if len(out.Actions) > 0 && !rw.OnAccept {
		// The derived files' and notices' names must be durable before a
		// record naming them commits (an acceptance's commit does that).
		if err := w.Store.SyncDir(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Discard undoes an Applied that will not be committed: its notices'
// files, its derived copies and its link package.
func (w *Rewriter) Discard(a *Applied) {
	if a == nil {
		return
	}
	a.Notices.Discard(w.Store)
	for _, s := range a.RcptBodies {
		w.Store.RemoveDerived(a.id, s)
	}
	for _, s := range []string{"bcc", "enc"} {
		w.Store.RemoveDerived(a.id, s)
	}
	if a.Package != "" && w.Linker != nil {
		// Undo runs after the request that made it may have ended.
		w.Linker.Links.RevokeID(context.Background(), a.Package, hold.System)
	}
}

// DiscardStale revokes link packages of message id that an earlier
// attempt created but never committed (a crash between the link store's
// commit and the message's), so only the links of the attempt that
// commits ever work.
func (w *Rewriter) DiscardStale(ctx context.Context, id string) error {
	if w.Linker == nil {
		return nil
	}
	infos, err := w.Linker.Links.ByMessage(ctx, id)
	if err != nil {
		return err
	}
	for _, in := range infos {
		if in.RevokedAt.IsZero() {
			_, err := w.Linker.Links.RevokeID(ctx, in.ID, hold.System)
			if err != nil && !errors.Is(err, link.ErrExpired) && !errors.Is(err, link.ErrRevoked) {
				return err
			}
		}
	}
	return nil
}

// writeBcc writes ID.bcc: the message with every external address moved
// out of To/Cc, every other byte unchanged.
func writeBcc(store *spool.Store, id string, internal func(string) bool) error {
	src, err := store.OpenBody(id)
	if err != nil {
		return fmt.Errorf("open message: %w", err)
	}
	defer src.Close()
	store.RemoveDerived(id, "bcc") // a copy left by an earlier attempt
	bw, err := store.CreateDerived(id, "bcc")
	if err != nil {
		return err
	}
	_, err = rewrite.Bcc(bw, src, func(addr string) bool {
		_, dom, _ := strings.Cut(addr, "@")
		return !internal(dom)
	})
	if err != nil && !errors.Is(err, rewrite.ErrFieldKept) {
		bw.Abort()
		return fmt.Errorf("convert to Bcc: %w", err)
	}
	_, err = bw.Commit()
	return err
}
