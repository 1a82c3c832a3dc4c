package disposition

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/crypto/password"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/rewrite"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/address"
	"github.com/sendguard/sendguard/spool"
)

// Encryptor applies the encrypt action: it writes the rewritten copy
// (ID.enc) with every attachment in one password-protected zip, and
// prepares the password notice(s). The password exists only in that
// notice, which is deleted from the spool once delivered; it is never
// logged or stored elsewhere.
type Encryptor struct {
	Store   *spool.Store
	Notices *notify.Builder // writes the password notices
	// LangOf is a notice recipient's one language ("" or nil: every
	// language, default_language first), as for every other notice.
	LangOf         func(addr string) string
	PasswordLength int
	Zip            aeszip.Options
	RecipientDelay time.Duration
	Presets        map[string]string // recipient domain → preset password
	Internal       func(domain string) bool
	// Suffix names the derived copy; "" means "enc". Protection profiles
	// give each encrypted recipient group its own.
	Suffix   string
	Lifetime time.Duration

	// inline: the copy is made for an acceptance (a fresh ID, committed
	// by spool.Store.Accept), so a small one is kept in memory for the
	// record's inline bytes instead of a spool file.
	inline bool
}

// Encrypted reports an applied encryption.
type Encrypted struct {
	Suffix  string                 // derived body file
	Mode    rules.PasswordDelivery // password delivery actually used
	Result  rewrite.EncryptResult
	Notices *Prepared
	// Inline holds the copy's bytes when it was kept in memory (no file
	// ID.suffix exists): they go into the record (spool.Record.Inline).
	Inline []byte
}

// ErrNothingToEncrypt means the message has no attachment.
var ErrNothingToEncrypt = rewrite.ErrNoAttachments

// Apply encrypts the attachments of the spooled message id.
// from names the derived copy to start from ("" for the body as received,
// "bcc" after a Bcc conversion).
// mode is the policy's encrypt_password; one it cannot honour falls back
// to the sender.
func (e *Encryptor) Apply(id, from, sender string, rcpts []string, subject string, mode rules.PasswordDelivery, now time.Time) (*Encrypted, error) {
	external := e.externalRcpts(rcpts)
	pw, mode, err := e.password(mode, external)
	if err != nil {
		return nil, err
	}
	src, err := e.Store.OpenDeliverable(&spool.Record{ID: id, BodySuffix: from})
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	defer src.Close()
	suffix := e.Suffix
	if suffix == "" {
		suffix = "enc"
	}
	var dst interface {
		io.Writer
		Abort()
	}
	var commit func() ([]byte, error)
	if e.inline {
		// A fresh ID has no copy left by an earlier attempt to remove.
		bw := e.Store.CreateDerivedInline(id, suffix, spool.MaxInline)
		dst = bw
		commit = func() ([]byte, error) { _, err := bw.Commit(); return bw.Inline(), err }
	} else {
		e.Store.RemoveDerived(id, suffix)
		bw, err := e.Store.CreateDerived(id, suffix)
		if err != nil {
			return nil, err
		}
		dst = bw
		commit = func() ([]byte, error) { _, err := bw.Commit(); return nil, err }
	}
	zo := e.Zip
	zo.TempDir = e.Store.TempDir()
	res, err := rewrite.EncryptAttachments(dst, src, rewrite.EncryptOptions{Password: pw,
		PasswordDelivery: mode, Zip: zo, Modified: now, Language: e.Notices.DefaultLanguage()})
	if err != nil {
		dst.Abort()
		return nil, err
	}
	inline, err := commit()
	if err != nil {
		return nil, err
	}
	if inline != nil {
		// A name no file takes: a copy a later rewrite writes as a file
		// ("enc") never matches the record's inline one.
		suffix += "-inline"
	}
	out := &Encrypted{Suffix: suffix, Mode: mode, Result: res, Notices: &Prepared{}, Inline: inline}
	switch mode {
	case rules.PasswordSender:
		err = e.notice(out.Notices, passwordNotice(sender, subject, res, pw, rcpts, true, now))
	case rules.PasswordRecipient:
		for _, r := range external {
			if err = e.notice(out.Notices, passwordNotice(r, subject, res, pw, nil, false, now.Add(e.RecipientDelay))); err != nil {
				break
			}
		}
	}
	if err != nil {
		out.Notices.Discard(e.Store)
		e.Store.RemoveDerived(id, suffix)
		return nil, err
	}
	return out, nil
}

// password picks the password and the mode that can really be used: a
// preset only when every external recipient's domain shares one, the
// sender mode needs a sender.
func (e *Encryptor) password(mode rules.PasswordDelivery, external []string) (string, rules.PasswordDelivery, error) {
	if mode == rules.PasswordPreset {
		preset := ""
		for _, r := range external {
			_, dom, _ := strings.Cut(strings.ToLower(r), "@")
			p, ok := e.Presets[dom]
			if !ok || (preset != "" && p != preset) {
				preset = ""
				break
			}
			preset = p
		}
		if preset != "" {
			return preset, rules.PasswordPreset, nil
		}
		mode = rules.PasswordSender // no single agreed password: fall back safely
	}
	if mode != rules.PasswordRecipient {
		mode = rules.PasswordSender
	}
	pw, err := password.Generate(password.Options{Length: e.PasswordLength})
	return pw, mode, err
}

func (e *Encryptor) externalRcpts(rcpts []string) []string {
	var out []string
	for _, r := range rcpts {
		// The parser delivery routes by; a routed or unparsable address is
		// external, as in the analysis.
		a, err := address.Parse(r)
		if err != nil || a.Routed() || !e.Internal(a.ASCIIDomain) {
			out = append(out, r)
		}
	}
	return out
}

// notice spools one password mail, due at its date.
func (e *Encryptor) notice(p *Prepared, n notify.PasswordNotice) error {
	if e.LangOf != nil {
		n.Lang = e.LangOf(n.To)
	}
	data, err := e.Notices.Password(n)
	if err != nil {
		return err
	}
	return spoolNotice(e.Store, p, []string{n.To}, data, "password notice", n.Date, e.Lifetime)
}

// Acceptor commits an accepted message (*queue.Queue is one).
type Acceptor interface {
	Accept(ctx context.Context, a queue.Acceptance) error
}

// QueueNotice spools a notice and commits it at once (for notices that
// belong to no acceptance or transition, e.g. one-time download codes).
func QueueNotice(ctx context.Context, q Acceptor, st *spool.Store, to []string, data []byte, what string, now time.Time, lifetime time.Duration) error {
	p := &Prepared{}
	if err := spoolNotice(st, p, to, data, what, now, lifetime); err != nil {
		return err
	}
	err := q.Accept(ctx, queue.Acceptance{Message: p.Mails[0]})
	if err != nil {
		p.Discard(st)
	}
	return err
}

// spoolNotice adds the record of a notice, due at due, to p. A notice of at
// most spool.MaxInline bytes (every notice but a link notice listing
// hundreds of files) keeps its bytes in the database: they become durable
// with the commit that owns the notice, with no spool file to create,
// fsync, name in the directory and unlink. A larger one is written to its
// own spool file (fsynced) first. Nothing shows a notice's bytes but its
// delivery: the console and the tools show held mail only.
func spoolNotice(st *spool.Store, p *Prepared, to []string, data []byte, what string, due time.Time, lifetime time.Duration) error {
	if len(data) == 0 {
		return fmt.Errorf("%s: empty notice", what)
	}
	id := spool.NewID()
	rec := &spool.Record{ID: id, Kind: spool.KindNotice, State: spool.StateQueued, Size: int64(len(data)),
		ReceivedAt: due, NextAttempt: due, Expires: due.Add(lifetime), Subject: what, EightBit: true,
		UTF8: hasNonASCII(to)}
	if len(data) <= spool.MaxInline {
		sum := sha256.Sum256(data)
		rec.SHA256, rec.Inline = hex.EncodeToString(sum[:]), data
	} else {
		bw, err := st.Create(id)
		if err != nil {
			return err
		}
		bw.Write(data)
		if rec.SHA256, err = bw.Commit(); err != nil {
			return err
		}
	}
	rec.Rcpts = make([]spool.Rcpt, 0, len(to))
	for _, a := range to {
		rec.Rcpts = append(rec.Rcpts, spool.Rcpt{Addr: a, Status: spool.RcptPending})
	}
	p.Mails = append(p.Mails, rec)
	return nil
}

// passwordNotice is the view of one password mail: the sender's copy
// names the recipients and the files, a recipient's only the zip.
func passwordNotice(to, subject string, res rewrite.EncryptResult, pw string, rcpts []string, toSender bool, due time.Time) notify.PasswordNotice {
	n := notify.PasswordNotice{To: to, Subject: subject, ZipName: res.ZipName, Password: pw, ToSender: toSender, Date: due}
	if toSender {
		n.Recipients = rcpts
		for _, f := range res.Files {
			n.Files = append(n.Files, f.Name)
		}
	}
	return n
}
