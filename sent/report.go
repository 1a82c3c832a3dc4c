package sent

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
)

// The sender's own report (「誤送信を報告」): with sent.report_window set,
// the sender of a delivered mail gets a receipt whose link opens the
// incident as the sender, until the window ends. The link is single-use,
// stored as a hash, and says nothing but the mail's subject.

// reportRcpt marks a token record as the sender's report link.
const reportRcpt = "\x00sender"

// IssueReport returns a report token for message id's sender, or ok false
// when one was already issued (a later attempt of the same mail).
func (s *Store) IssueReport(id string, window time.Duration, now time.Time) (tok token.Token, ok bool, err error) {
	err = s.DB.Update(func(tx *bbolt.Tx) error {
		rec, err := getTx(tx, id)
		if err != nil {
			return err
		}
		in, err := getIncidentTx(tx, id)
		if err != nil {
			return err
		}
		tb, err := tx.CreateBucketIfNotExists(bucketTokens)
		if err != nil {
			return err
		}
		// one receipt per message: the marker lives in the record's
		// incident bucket key space
		mk := []byte("report\x00" + id)
		ib, err := tx.CreateBucketIfNotExists(bucketIncidents)
		if err != nil {
			return err
		}
		if in != nil || ib.Get(mk) != nil {
			return nil
		}
		if tok, err = token.New(); err != nil {
			return err
		}
		h := tok.Hash()
		v, _ := json.Marshal(tokenRec{ID: id, Rcpt: reportRcpt, Expires: now.Add(window).UTC()})
		if err := tb.Put(h[:], v); err != nil {
			return err
		}
		ok = rec != nil
		return ib.Put(mk, []byte{1})
	})
	return tok, ok, err
}

// Report opens message id's incident as its sender, from the receipt's
// link. The link works once.
func (s *Store) Report(text, ip string, now time.Time, audit Auditor) (*Pending, error) {
	var p *Pending
	err := s.DB.Update(func(tx *bbolt.Tx) error {
		t, rec, err := useToken(tx, text, now, true)
		if err != nil {
			return err
		}
		actor := hold.Actor{Name: rec.MailFrom, Role: "sender", IP: ip}
		in, err := getIncidentTx(tx, t.ID)
		if err != nil {
			return err
		}
		if in == nil {
			in = &Incident{ID: t.ID, OpenedAt: now.UTC(), OpenedBy: rec.MailFrom}
		}
		in.ReportedBySender = now.UTC()
		if err := putIncidentTx(tx, in); err != nil {
			return err
		}
		if _, err := audit.AppendEventTx(tx, hold.Event{MessageID: t.ID, Actor: actor, Action: "incident_reported_by_sender",
			Reason: fmt.Sprintf("the sender reported the mail as sent in error (%d recipient(s))", len(rec.Delivered()))}); err != nil {
			return err
		}
		p = &Pending{Subject: rec.Subject, Date: rec.DeliveredAt, Rcpt: rec.MailFrom}
		return nil
	})
	return p, err
}

// PeekReport checks a report token without using it.
func (s *Store) PeekReport(text string, now time.Time) (*Pending, error) {
	return s.peek(text, now, true)
}
