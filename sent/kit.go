package sent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/templates"
)

// Links is what the kit needs of the download-link store (*link.Store).
type Links interface {
	ByMessage(ctx context.Context, messageID string) ([]*link.Info, error)
	RevokeID(ctx context.Context, id string, by hold.Actor) (*link.Info, error)
}

// Audit is the audit log (*hold.Store): appended in the kit's
// transactions, read for the evidence bundle.
type Audit interface {
	Auditor
	AppendEvent(ctx context.Context, e hold.Event) (hold.Event, error)
	Events(ctx context.Context, id string) ([]hold.Event, error)
	Verify(ctx context.Context) (uint64, error)
	Head(ctx context.Context) (uint64, hold.Hash, error)
}

// Mailer queues one mail to one recipient.
type Mailer func(ctx context.Context, to string, msg []byte) error

// Kit is the incident kit: the steps a reviewer takes from a sent message.
// Every step is an audit event naming the acting user.
type Kit struct {
	Store   *Store
	Links   Links // nil: no download links
	Audit   Audit
	Mail    Mailer
	Catalog *templates.Catalog
	// BaseURL is web.base_url (with a trailing slash); confirm links are
	// BaseURL + "del/" + token.
	BaseURL string
	From    string // notices' From
	// ConfirmTTL is how long a confirm link works; zero means 14 days.
	ConfirmTTL time.Duration
	Location   *time.Location
	Internal   func(domain string) bool
	Log        *slog.Logger
	Now        func() time.Time
}

func (k *Kit) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *Kit) ttl() time.Duration {
	if k.ConfirmTTL > 0 {
		return k.ConfirmTTL
	}
	return 14 * 24 * time.Hour
}

// Get returns the record and incident state of message id; ErrNotFound
// when there is no record (never delivered, or older than the retention).
func (k *Kit) Get(ctx context.Context, id string) (*Record, *Incident, error) {
	return k.Store.Incident(ctx, id)
}

// Open starts an incident from a sent or released message.
func (k *Kit) Open(ctx context.Context, id string, actor hold.Actor) error {
	return k.Store.Open(id, actor, k.now(), k.Audit)
}

// RevokeLinks revokes every download link of message id that is still
// live; it returns how many it revoked.
func (k *Kit) RevokeLinks(ctx context.Context, id string, actor hold.Actor) (int, error) {
	if _, err := k.Store.Get(ctx, id); err != nil {
		return 0, err
	}
	n := 0
	if k.Links != nil {
		infos, err := k.Links.ByMessage(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("list download links: %w", err)
		}
		for _, in := range infos {
			_, err := k.Links.RevokeID(ctx, in.ID, actor)
			switch {
			case err == nil:
				n++
			case errors.Is(err, link.ErrRevoked), errors.Is(err, link.ErrExpired):
			default:
				return n, fmt.Errorf("revoke download link: %w", err)
			}
		}
	}
	return n, k.Store.NoteLinksRevoked(id, n, actor, k.now(), k.Audit)
}

// RequestDeletion sends the deletion request to every original recipient
// who has not confirmed yet, each with their own confirm link; it returns
// how many it queued. A mail that cannot be queued leaves its request
// unsent (no SentAt) and is reported in the audit event and the error.
func (k *Kit) RequestDeletion(ctx context.Context, id, lang string, actor hold.Actor) (int, error) {
	now := k.now()
	rec, err := k.Store.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	issued, err := k.Store.RequestDeletion(id, lang, k.ttl(), actor, now, k.Audit)
	if err != nil {
		return 0, err
	}
	var sent, failed []string
	var firstErr error
	for _, is := range issued {
		m := DeletionMail{From: k.From, To: is.Rcpt, Lang: lang, Sender: rec.MailFrom, Subject: rec.Subject,
			Sent: rec.DeliveredAt, Link: k.BaseURL + ConfirmPrefix + is.Token.Text(), Expires: now.Add(k.ttl()), Location: k.Location}
		b, err := m.Bytes(k.Catalog)
		if err == nil {
			err = k.Mail(ctx, is.Rcpt, b)
		}
		if err != nil {
			failed = append(failed, is.Rcpt)
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		sent = append(sent, is.Rcpt)
	}
	if err := k.Store.MarkRequested(id, sent, failed, actor, k.now(), k.Audit); err != nil {
		return len(sent), err
	}
	if firstErr != nil {
		return len(sent), fmt.Errorf("queue deletion request: %w", firstErr)
	}
	return len(sent), nil
}

// Draft returns the PPC report draft of message id.
func (k *Kit) Draft(ctx context.Context, id, lang string, actor hold.Actor) (*Draft, error) {
	rec, in, err := k.Store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	loc := k.Location
	if loc == nil {
		loc = time.UTC
	}
	d := NewDraft(k.Catalog, lang, rec, in, k.now(), loc, k.Internal)
	if _, err := k.Audit.AppendEvent(ctx, hold.Event{MessageID: id, Actor: actor, Action: "incident_ppc_draft",
		Reason: "PPC report draft exported"}); err != nil {
		return nil, err
	}
	return d, nil
}

// Evidence returns the evidence bundle of message id.
func (k *Kit) Evidence(ctx context.Context, id string, actor hold.Actor) (*Evidence, error) {
	rec, in, err := k.Store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := k.Audit.AppendEvent(ctx, hold.Event{MessageID: id, Actor: actor, Action: "incident_evidence",
		Reason: "evidence bundle exported"}); err != nil {
		return nil, err
	}
	evs, err := k.Audit.Events(ctx, id)
	if err != nil {
		return nil, err
	}
	ev := &Evidence{ExportedAt: k.now().UTC(), ExportedBy: actor.Name, Record: rec, Incident: in, Events: evs,
		EventsOK:   EventsIntact(evs),
		ReportNote: "findings carry masked samples only; attachment hashes are SHA-256 of the decoded files as the sender sent them"}
	if ev.Events == nil {
		ev.Events = []hold.Event{}
	}
	ev.ChainVerified, err = k.Audit.Verify(ctx)
	if err != nil {
		ev.ChainError = err.Error()
	}
	ev.HeadSeq, ev.HeadHash, _ = k.Audit.Head(ctx)
	return ev, nil
}

// SendReceipt sends the sender of a just-delivered mail the receipt with
// its report link (once per message), when window is set.
func (k *Kit) SendReceipt(ctx context.Context, rec *Record, lang string, window time.Duration) error {
	if window <= 0 || rec.MailFrom == "" {
		return nil
	}
	now := k.now()
	tok, ok, err := k.Store.IssueReport(rec.ID, window, now)
	if err != nil || !ok {
		return err
	}
	m := ReceiptMail{From: k.From, To: rec.MailFrom, Lang: lang, Subject: rec.Subject, Recipients: len(rec.Delivered()),
		Link: k.BaseURL + ReportPrefix + tok.Text(), Until: now.Add(window), Location: k.Location}
	b, err := m.Bytes(k.Catalog)
	if err != nil {
		return err
	}
	return k.Mail(ctx, rec.MailFrom, b)
}

// Body opens message id's kept body for an admin, audited.
func (k *Kit) Body(ctx context.Context, id string, actor hold.Actor) (io.ReadCloser, error) {
	if _, err := k.Store.Get(ctx, id); err != nil {
		return nil, err
	}
	rc, err := k.Store.OpenBody(id)
	if err != nil {
		return nil, err
	}
	if _, err := k.Audit.AppendEvent(ctx, hold.Event{MessageID: id, Actor: actor, Action: "incident_body_downloaded",
		Reason: "the kept original message was downloaded"}); err != nil {
		rc.Close()
		return nil, err
	}
	return rc, nil
}
