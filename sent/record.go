package sent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"github.com/sendguard/sendguard/internal/b64"
	"github.com/sendguard/sendguard/internal/bufpool"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/extract"
	"github.com/sendguard/sendguard/spool"
)

// Record is what sendguard remembers of one delivered message.
type Record struct {
	ID          string    `json:"id"` // queue ID
	ReceivedAt  time.Time `json:"received_at"`
	DeliveredAt time.Time `json:"delivered_at"`
	State       string    `json:"state"` // delivered or bounced (some failed)
	ClientIP    string    `json:"client_ip,omitempty"`
	AuthUser    string    `json:"auth_user,omitempty"`
	MailFrom    string    `json:"mail_from"`
	Rcpts       []Rcpt    `json:"rcpts"`
	// Header summary.
	From      string   `json:"from,omitempty"`
	To        []string `json:"to,omitempty"`
	Cc        []string `json:"cc,omitempty"`
	Subject   string   `json:"subject,omitempty"`
	MessageID string   `json:"message_id,omitempty"`
	Date      string   `json:"date,omitempty"`
	Size      int64    `json:"size"`
	SHA256    string   `json:"sha256,omitempty"` // of the message as received
	// Report summary: masked findings only.
	Findings          []Finding    `json:"findings"`
	People            int          `json:"people"`
	PeopleApproximate bool         `json:"people_approximate,omitempty"`
	DataItems         []string     `json:"data_items"`
	Attachments       []Attachment `json:"attachments"`
	// Decision is the policy's verdict at acceptance; Applied the
	// protections applied (encrypt, link, bcc).
	Actions []string `json:"actions"`
	Rules   []string `json:"rules,omitempty"`
	Applied []string `json:"applied,omitempty"`
	// BodyKept: the message itself is kept, encrypted (sent.keep_body).
	BodyKept bool `json:"body_kept,omitempty"`
}

// Rcpt is one envelope recipient and the next hop's reply.
type Rcpt struct {
	Addr     string    `json:"addr"`
	Status   string    `json:"status"`
	Code     int       `json:"code,omitempty"`
	Enhanced string    `json:"enhanced,omitempty"`
	Reply    string    `json:"reply,omitempty"`
	Remote   string    `json:"remote,omitempty"`
	At       time.Time `json:"at,omitzero"`
}

// Finding is a detector's masked result in one location.
type Finding struct {
	Detector string   `json:"detector"`
	Count    int      `json:"count"`
	Records  int      `json:"records,omitempty"`
	Location string   `json:"location"`
	Samples  []string `json:"samples,omitempty"`
}

// Attachment is one attachment as the sender sent it.
type Attachment struct {
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

// Delivered reports the recipients the next hop accepted.
func (r *Record) Delivered() []string {
	var out []string
	for _, rc := range r.Rcpts {
		if rc.Status == string(spool.RcptDelivered) {
			out = append(out, rc.Addr)
		}
	}
	return out
}

// Wanted reports whether a spool record's attempt is recorded: a mail
// (not a notice or DSN) that has reached at least one recipient. A mail
// still waiting for some recipients is recorded now and again at each
// later attempt, so an incident can start before the last retry.
func Wanted(rec *spool.Record) bool {
	if rec.Kind != spool.KindMail {
		return false
	}
	for _, rc := range rec.Rcpts {
		if rc.Status == spool.RcptDelivered {
			return true
		}
	}
	return false
}

// maxHashedParts bounds the attachments hashed in one message.
const maxHashedParts = 200

// Prepare builds the record of rec, finished at now, with the attachment
// hashes of the inspection's report when it vouches for them
// (reportedFiles; body then gives only its Date), else reading the
// original message from body to hash its attachments. It runs before the
// transaction that stores it. A body that cannot be read still gives a
// record, with the attachments the report names and no hashes.
func Prepare(rec *spool.Record, now time.Time, body io.Reader) *Record {
	s := &Record{ID: rec.ID, ReceivedAt: rec.ReceivedAt.UTC(), DeliveredAt: now.UTC(), State: string(rec.State),
		ClientIP: rec.ClientIP, AuthUser: rec.AuthUser, MailFrom: rec.MailFrom, Subject: rec.Subject,
		MessageID: rec.MessageID, Size: rec.Size, SHA256: rec.SHA256,
		Findings: []Finding{}, DataItems: []string{}, Attachments: []Attachment{}, Actions: []string{}, Applied: rec.Applied}
	for _, rc := range rec.Rcpts {
		s.Rcpts = append(s.Rcpts, Rcpt{Addr: strings.ToLower(rc.Addr), Status: string(rc.Status), Code: rc.Code,
			Enhanced: rc.Enhanced, Reply: rc.Message, Remote: rc.Remote, At: rc.Updated.UTC()})
	}
	var rep reportView
	if len(rec.Report) > 0 && json.Unmarshal(rec.Report, &rep) == nil {
		s.From = rep.From
		s.Subject = firstNonEmpty(s.Subject, rep.Subject)
		for _, rc := range rep.Recipients.List {
			switch rc.Field {
			case "to":
				s.To = append(s.To, rc.Address)
			case "cc":
				s.Cc = append(s.Cc, rc.Address)
			}
		}
		for _, f := range rep.Findings {
			s.Findings = append(s.Findings, Finding{Detector: f.Detector, Count: f.Count, Records: f.Records,
				Location: f.Location, Samples: f.Samples})
		}
		s.People, s.PeopleApproximate = rep.People, rep.PeopleApproximate
		if rep.DataItems != nil {
			s.DataItems = rep.DataItems
		}
	}
	var dec struct {
		Actions []string `json:"actions"`
		Rules   []string `json:"rules"`
	}
	if len(rec.Decision) > 0 && json.Unmarshal(rec.Decision, &dec) == nil {
		s.Actions, s.Rules = dec.Actions, dec.Rules
	}
	if s.Actions == nil {
		s.Actions = []string{}
	}
	if body != nil {
		if atts, ok := reportedFiles(rep, rec); ok {
			// The header alone gives the date, as hashAttachments reads
			// it; an unreadable header fails it the same way.
			if e, err := message.Read(body); err == nil || message.IsUnknownCharset(err) || message.IsUnknownEncoding(err) {
				s.Attachments, s.Date = atts, e.Header.Get("Date")
				return s
			}
		} else if atts, date, err := hashAttachments(body); err == nil {
			s.Attachments, s.Date = atts, date
			return s
		}
	}
	for _, a := range rep.Attachments {
		if a.Depth == 0 {
			s.Attachments = append(s.Attachments, Attachment{Name: a.Name, Type: a.Type, Size: a.Size})
		}
	}
	return s
}

// reportedFiles gives the attachments hashAttachments would find, from a
// report of the same body whose analysis vouched for its hashes
// (rules.Report.AttachmentsHashed): the inspection read and hashed them
// already, so the message is not read again.
func reportedFiles(rep reportView, rec *spool.Record) ([]Attachment, bool) {
	if !rep.AttachmentsHashed || rep.Size != rec.Size {
		return nil, false
	}
	out := []Attachment{}
	for _, a := range rep.Attachments {
		if a.Depth != 0 || a.SHA256 == "" {
			continue
		}
		if len(out) == maxHashedParts {
			return nil, false // hashAttachments stops at the cap
		}
		out = append(out, Attachment{Name: a.Name, Type: a.DeclaredType, Size: a.Size, SHA256: a.SHA256})
	}
	return out, true
}

// reportView is the part of a rules.Report a sent record keeps: decoding
// only these fields skips the allocations of the rest (the sender's
// directory entry and baseline, errors, partner names) on every delivery.
type reportView struct {
	Recipients struct {
		List []struct {
			Field   string `json:"field"`
			Address string `json:"address"`
		} `json:"list"`
	} `json:"recipients"`
	Findings []struct {
		Detector string   `json:"detector"`
		Count    int      `json:"count"`
		Records  int      `json:"records"`
		Location string   `json:"location"`
		Samples  []string `json:"samples"`
	} `json:"findings"`
	Attachments       []rules.Attachment `json:"attachments"`
	AttachmentsHashed bool               `json:"attachments_hashed"`
	Size              int64              `json:"size"`
	Subject           string             `json:"subject"`
	From              string             `json:"from"`
	People            int                `json:"people"`
	PeopleApproximate bool               `json:"people_approximate"`
	DataItems         []string           `json:"data_items"`
}

// hashAttachments walks the message and hashes every part that names a
// file, as decoded (the file the recipient saves). It walks as
// go-message's Entity.Walk does, but decodes a base64 part in bulk
// (b64.Reader: the bytes and errors of go-message's decoder, without its
// two byte-at-a-time passes, which showed in profiles of large mail).
func hashAttachments(r io.Reader) ([]Attachment, string, error) {
	e, err := message.Read(r)
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, "", fmt.Errorf("read message: %w", err)
	}
	date := e.Header.Get("Date")
	out := []Attachment{}
	visit := func(p *message.Entity) {
		if len(out) >= maxHashedParts {
			return
		}
		name := fileName(p.Header)
		if name == "" {
			return
		}
		ct, _, _ := p.Header.ContentType()
		h := sha256.New()
		n, err := bufpool.Copy(h, p.Body)
		if err != nil {
			return // a broken part is skipped, the walk goes on
		}
		out = append(out, Attachment{Name: name, Type: ct, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	var open []*textproto.MultipartReader
	descend := func(p *message.Entity) {
		if mt, params, _ := p.Header.ContentType(); strings.HasPrefix(mt, "multipart/") {
			open = append(open, textproto.NewMultipartReader(p.Body, params["boundary"]))
		}
	}
	visit(e) // as in Walk, the root is visited whatever Read reported
	descend(e)
	for len(open) > 0 {
		tp, err := open[len(open)-1].NextPart()
		if err == io.EOF {
			open = open[:len(open)-1]
			continue
		}
		if err != nil {
			return out, date, err
		}
		if !walkNameless && !namedOrMultipart(tp.Header) {
			// Nothing to hash or to descend into: no entity, so no
			// decoders (a text part's charset converter) are set up
			// for a body nobody reads.
			continue
		}
		p, dec, err := newPart(tp)
		if err == nil {
			visit(p)
		}
		if dec != nil {
			dec.Release()
		}
		descend(p)
	}
	return out, date, nil
}

// newPart is message.New for a part, with a base64 body decoded by a
// pooled b64.Reader (returned for release) instead of go-message's
// decoder. The error is New's: an unknown encoding or charset.
func newPart(tp *textproto.Part) (*message.Entity, *b64.Reader, error) {
	h := message.Header{Header: tp.Header}
	mt, _, _ := h.ContentType()
	// New's test: multipart bodies are never decoded, and only this exact
	// spelling (any case) is base64 to it.
	if strings.HasPrefix(mt, "multipart/") || strings.ToLower(h.Get("Content-Transfer-Encoding")) != "base64" {
		p, err := message.New(h, tp)
		return p, nil, err
	}
	dec := b64.NewReader(tp)
	plain := h.Copy()
	plain.Del("Content-Transfer-Encoding") // decoded here; New converts the charset only
	p, err := message.New(plain, dec)
	p.Header = h
	return p, dec, err
}

// walkNameless makes hashAttachments build every part's entity, as before
// it skipped those it neither hashes nor descends into; for A/B
// measurements.
var walkNameless = false

// namedOrMultipart reports whether a part is visited (it names a file) or
// descended into (multipart), as hashAttachments' walk would find.
func namedOrMultipart(th textproto.Header) bool {
	h := message.Header{Header: th}
	if mt, _, _ := h.ContentType(); strings.HasPrefix(mt, "multipart/") {
		return true
	}
	return fileName(h) != ""
}

// fileName is the name the inspection's walk gives a file of the sent
// record too (reportedFiles).
func fileName(h message.Header) string { return extract.FileName(h) }

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
