package sent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
)

// Incident is the incident kit's state for one sent message.
type Incident struct {
	ID             string            `json:"id"`
	OpenedAt       time.Time         `json:"opened_at"`
	OpenedBy       string            `json:"opened_by"`
	LinksRevoked   int               `json:"links_revoked,omitempty"`
	LinksRevokedAt time.Time         `json:"links_revoked_at,omitzero"`
	Requests       []DeletionRequest `json:"requests,omitempty"`
	// ReportedBySender is when the sender reported the mail from the
	// receipt's link (report.go).
	ReportedBySender time.Time `json:"reported_by_sender,omitzero"`
}

// DeletionRequest is one recipient's deletion request (削除依頼) and its
// confirmation.
type DeletionRequest struct {
	Rcpt        string    `json:"rcpt"`
	Lang        string    `json:"lang"`
	SentAt      time.Time `json:"sent_at"`
	SentBy      string    `json:"sent_by"`
	Expires     time.Time `json:"expires"`
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	// ConfirmIP is where the confirmation came from.
	ConfirmIP string `json:"confirm_ip,omitempty"`
}

// Confirmed counts the requests confirmed.
func (in *Incident) Confirmed() int {
	n := 0
	for _, r := range in.Requests {
		if !r.ConfirmedAt.IsZero() {
			n++
		}
	}
	return n
}

// tokenRec is a confirm token's record, keyed by the token's hash: the
// token itself is never stored.
type tokenRec struct {
	ID      string    `json:"id"`
	Rcpt    string    `json:"rcpt"`
	Expires time.Time `json:"expires"`
	Used    bool      `json:"used,omitempty"`
}

// ErrTokenInvalid is the one answer to a confirm token that is unknown,
// used or expired: the page says nothing more.
var ErrTokenInvalid = errors.New("sent: confirm link invalid, used or expired")

// Auditor appends audit events in the caller's transaction (*hold.Store).
type Auditor interface {
	AppendEventTx(tx *bbolt.Tx, e hold.Event) (hold.Event, error)
}

func getIncidentTx(tx *bbolt.Tx, id string) (*Incident, error) {
	b := tx.Bucket(bucketIncidents)
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	in := &Incident{}
	if err := json.Unmarshal(v, in); err != nil {
		return nil, fmt.Errorf("decode incident %s: %w", id, err)
	}
	return in, nil
}

func putIncidentTx(tx *bbolt.Tx, in *Incident) error {
	v, err := json.Marshal(in)
	if err != nil {
		return err
	}
	b, err := tx.CreateBucketIfNotExists(bucketIncidents)
	if err != nil {
		return err
	}
	return b.Put([]byte(in.ID), v)
}

// deleteIncidentTx removes message id's incident and its receipt marker;
// its tokens go in Purge's sweep (sweepTokensTx).
func deleteIncidentTx(tx *bbolt.Tx, id string) error {
	b := tx.Bucket(bucketIncidents)
	if b == nil {
		return nil
	}
	if err := b.Delete([]byte("report\x00" + id)); err != nil {
		return err
	}
	return b.Delete([]byte(id))
}

// sweepTokensTx deletes the tokens whose message has no record any more.
func sweepTokensTx(tx *bbolt.Tx) error {
	tb, recs := tx.Bucket(bucketTokens), tx.Bucket(bucketRecords)
	if tb == nil || recs == nil {
		return nil
	}
	var dead [][]byte
	c := tb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var t tokenRec
		if json.Unmarshal(v, &t) != nil || recs.Get([]byte(t.ID)) == nil {
			dead = append(dead, slices.Clone(k))
		}
	}
	for _, k := range dead {
		if err := tb.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Incident returns the record of message id and its incident state (nil
// when no step was taken yet).
func (s *Store) Incident(ctx context.Context, id string) (*Record, *Incident, error) {
	var rec *Record
	var in *Incident
	err := s.DB.View(func(tx *bbolt.Tx) error {
		var err error
		if rec, err = getTx(tx, id); err != nil {
			return err
		}
		in, err = getIncidentTx(tx, id)
		return err
	})
	return rec, in, err
}

// step runs fn on message id's incident (opened if need be) in one
// transaction with the audit event fn returns.
func (s *Store) step(id string, actor hold.Actor, now time.Time, audit Auditor, fn func(tx *bbolt.Tx, rec *Record, in *Incident) (hold.Event, error)) error {
	return s.DB.Update(func(tx *bbolt.Tx) error {
		rec, err := getTx(tx, id)
		if err != nil {
			return err
		}
		in, err := getIncidentTx(tx, id)
		if err != nil {
			return err
		}
		if in == nil {
			in = &Incident{ID: id, OpenedAt: now.UTC(), OpenedBy: actor.Name}
			if _, err := audit.AppendEventTx(tx, hold.Event{MessageID: id, Actor: actor, Action: "incident_opened",
				Reason: "a delivered message was reported as sent in error"}); err != nil {
				return err
			}
		}
		e, err := fn(tx, rec, in)
		if err != nil {
			return err
		}
		if err := putIncidentTx(tx, in); err != nil {
			return err
		}
		if e.Action == "" {
			return nil
		}
		e.MessageID, e.Actor = id, actor
		_, err = audit.AppendEventTx(tx, e)
		return err
	})
}

// Open starts the incident of message id (idempotent, audited once).
func (s *Store) Open(id string, actor hold.Actor, now time.Time, audit Auditor) error {
	return s.step(id, actor, now, audit, func(*bbolt.Tx, *Record, *Incident) (hold.Event, error) { return hold.Event{}, nil })
}

// NoteLinksRevoked records that n download links of message id were
// revoked by actor.
func (s *Store) NoteLinksRevoked(id string, n int, actor hold.Actor, now time.Time, audit Auditor) error {
	return s.step(id, actor, now, audit, func(_ *bbolt.Tx, _ *Record, in *Incident) (hold.Event, error) {
		in.LinksRevoked += n
		in.LinksRevokedAt = now.UTC()
		return hold.Event{Action: "incident_links_revoked", Reason: fmt.Sprintf("%d download link(s) revoked", n)}, nil
	})
}

// Issued is a deletion request to send: the recipient and the token of
// its confirm link (shown only in that mail).
type Issued struct {
	Rcpt  string
	Token token.Token
}

// RequestDeletion issues a confirm token to every recipient the message
// was delivered to and who has not confirmed yet; an earlier request's
// token stops working. Only the original recipients can be addressed:
// the list comes from the record, never from the caller.
func (s *Store) RequestDeletion(id, lang string, ttl time.Duration, actor hold.Actor, now time.Time, audit Auditor) ([]Issued, error) {
	var out []Issued
	err := s.step(id, actor, now, audit, func(tx *bbolt.Tx, rec *Record, in *Incident) (hold.Event, error) {
		out = out[:0]
		tb, err := tx.CreateBucketIfNotExists(bucketTokens)
		if err != nil {
			return hold.Event{}, err
		}
		// tokens of earlier requests end here
		var old [][]byte
		c := tb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var t tokenRec
			if json.Unmarshal(v, &t) == nil && t.ID == id && t.Rcpt != reportRcpt {
				old = append(old, slices.Clone(k))
			}
		}
		for _, k := range old {
			if err := tb.Delete(k); err != nil {
				return hold.Event{}, err
			}
		}
		for _, rcpt := range rec.Delivered() {
			i := slices.IndexFunc(in.Requests, func(r DeletionRequest) bool { return r.Rcpt == rcpt })
			if i >= 0 && !in.Requests[i].ConfirmedAt.IsZero() {
				continue
			}
			tok, err := token.New()
			if err != nil {
				return hold.Event{}, err
			}
			h := tok.Hash()
			v, _ := json.Marshal(tokenRec{ID: id, Rcpt: rcpt, Expires: now.Add(ttl).UTC()})
			if err := tb.Put(h[:], v); err != nil {
				return hold.Event{}, err
			}
			// SentAt is set by MarkRequested once the mail is queued.
			req := DeletionRequest{Rcpt: rcpt, Lang: lang, SentBy: actor.Name, Expires: now.Add(ttl).UTC()}
			if i >= 0 {
				in.Requests[i] = req
			} else {
				in.Requests = append(in.Requests, req)
			}
			out = append(out, Issued{Rcpt: rcpt, Token: tok})
		}
		return hold.Event{}, nil // audited by MarkRequested, with what was sent
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkRequested records that the deletion requests to sent were queued
// (and that those to failed could not be), as one audit event.
func (s *Store) MarkRequested(id string, sent, failed []string, actor hold.Actor, now time.Time, audit Auditor) error {
	return s.step(id, actor, now, audit, func(_ *bbolt.Tx, _ *Record, in *Incident) (hold.Event, error) {
		for i := range in.Requests {
			if slices.Contains(sent, in.Requests[i].Rcpt) {
				in.Requests[i].SentAt = now.UTC()
			}
		}
		reason := fmt.Sprintf("deletion request sent to %d original recipient(s)", len(sent))
		if len(failed) > 0 {
			reason += fmt.Sprintf("; %d could not be queued", len(failed))
		}
		return hold.Event{Action: "incident_deletion_requested", Reason: reason}, nil
	})
}

// Pending is what a recipient's confirm page may show before the click:
// the message's subject and date, and nothing about other recipients.
type Pending struct {
	Subject string
	Date    time.Time
	Rcpt    string
}

// Peek checks a confirm token without using it (a GET of the page; mail
// scanners fetch links).
func (s *Store) Peek(text string, now time.Time) (*Pending, error) {
	return s.peek(text, now, false)
}

// peek looks a token up without using it: a deletion request's (for its
// recipient) or a receipt's report link (for the sender).
func (s *Store) peek(text string, now time.Time, report bool) (*Pending, error) {
	var p *Pending
	err := s.DB.View(func(tx *bbolt.Tx) error {
		t, rec, err := lookupToken(tx, text, now, report)
		if err != nil {
			return err
		}
		p = &Pending{Subject: rec.Subject, Date: rec.DeliveredAt, Rcpt: t.Rcpt}
		if report {
			p.Rcpt = rec.MailFrom
		}
		return nil
	})
	return p, err
}

func lookupToken(tx *bbolt.Tx, text string, now time.Time, wantReport bool) (*tokenRec, *Record, error) {
	tok, err := token.Parse(text)
	if err != nil {
		return nil, nil, ErrTokenInvalid
	}
	tb := tx.Bucket(bucketTokens)
	if tb == nil {
		return nil, nil, ErrTokenInvalid
	}
	h := tok.Hash()
	v := tb.Get(h[:])
	if v == nil {
		return nil, nil, ErrTokenInvalid
	}
	var t tokenRec
	if err := json.Unmarshal(v, &t); err != nil || t.Used || !now.Before(t.Expires) {
		return nil, nil, ErrTokenInvalid
	}
	if t.Rcpt == reportRcpt && !wantReport || t.Rcpt != reportRcpt && wantReport {
		return nil, nil, ErrTokenInvalid
	}
	rec, err := getTx(tx, t.ID)
	if err != nil {
		return nil, nil, ErrTokenInvalid
	}
	return &t, rec, nil
}

// useToken looks a token up like lookupToken and marks it used in the
// same transaction: every link of the kit works once.
func useToken(tx *bbolt.Tx, text string, now time.Time, wantReport bool) (*tokenRec, *Record, error) {
	t, rec, err := lookupToken(tx, text, now, wantReport)
	if err != nil {
		return nil, nil, err
	}
	tok, _ := token.Parse(text)
	h := tok.Hash()
	t.Used = true
	v, _ := json.Marshal(t)
	if err := tx.Bucket(bucketTokens).Put(h[:], v); err != nil {
		return nil, nil, err
	}
	return t, rec, nil
}

// Confirm records that the token's recipient deleted the message. The
// token works once.
func (s *Store) Confirm(text string, ip string, now time.Time, audit Auditor) (*Pending, error) {
	var p *Pending
	err := s.DB.Update(func(tx *bbolt.Tx) error {
		t, rec, err := useToken(tx, text, now, false)
		if err != nil {
			return err
		}
		in, err := getIncidentTx(tx, t.ID)
		if err != nil || in == nil {
			return ErrTokenInvalid
		}
		for i := range in.Requests {
			if in.Requests[i].Rcpt == t.Rcpt {
				in.Requests[i].ConfirmedAt, in.Requests[i].ConfirmIP = now.UTC(), ip
			}
		}
		if err := putIncidentTx(tx, in); err != nil {
			return err
		}
		if _, err := audit.AppendEventTx(tx, hold.Event{MessageID: t.ID, Action: "incident_deletion_confirmed",
			Actor: hold.Actor{Name: t.Rcpt, Role: "recipient", IP: ip}, Reason: "the recipient confirmed deleting the message"}); err != nil {
			return err
		}
		p = &Pending{Subject: rec.Subject, Date: rec.DeliveredAt, Rcpt: t.Rcpt}
		return nil
	})
	return p, err
}

// OpenIncident is an incident with its message's record, for the list.
type OpenIncident struct {
	Record   *Record
	Incident *Incident
}

// Incidents lists the incidents of messages still on record, newest
// first, at most limit.
func (s *Store) Incidents(ctx context.Context, limit int) ([]OpenIncident, error) {
	var out []OpenIncident
	err := s.DB.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketIncidents)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			in := &Incident{}
			if json.Unmarshal(v, in) != nil || in.ID == "" {
				return nil // a receipt marker, not an incident
			}
			rec, err := getTx(tx, in.ID)
			if err != nil {
				return nil
			}
			out = append(out, OpenIncident{Record: rec, Incident: in})
			return nil
		})
	})
	slices.SortFunc(out, func(a, b OpenIncident) int { return b.Incident.OpenedAt.Compare(a.Incident.OpenedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}
