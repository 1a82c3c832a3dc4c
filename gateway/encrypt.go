package gateway

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/crypto/password"
	"github.com/sendguard/sendguard/rewrite"
	"github.com/sendguard/sendguard/rules/address"
	"github.com/sendguard/sendguard/spool"
)

// Encryptor applies the encrypt action: it writes the rewritten copy
// (ID.enc) with every attachment in one password-protected zip, and
// prepares the password notice(s). The password exists only in that
// notice, which is deleted from the spool once delivered; it is never
// logged or stored elsewhere.
type Encryptor struct {
	Store          *spool.Store
	From           string // notices' From header
	PasswordLength int
	Zip            aeszip.Options
	RecipientDelay time.Duration
	Presets        map[string]string // recipient domain → preset password
	Internal       func(domain string) bool
	Lifetime       time.Duration
}

// Encrypted reports an applied encryption.
type Encrypted struct {
	Suffix  string                   // derived body file
	Mode    rewrite.PasswordDelivery // password delivery actually used
	Result  rewrite.EncryptResult
	Notices *Prepared
}

// ErrNothingToEncrypt means the message has no attachment.
var ErrNothingToEncrypt = rewrite.ErrNoAttachments

// Apply encrypts the attachments of the spooled message id.
// from names the derived copy to start from ("" for the body as received,
// "bcc" after a Bcc conversion).
// mode is the policy's encrypt_password; one it cannot honour falls back
// to the sender.
func (e *Encryptor) Apply(id, from, sender string, rcpts []string, subject string, mode rewrite.PasswordDelivery, now time.Time) (*Encrypted, error) {
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
	suffix := "enc"
	e.Store.RemoveDerived(id, suffix)
	bw, err := e.Store.CreateDerived(id, suffix)
	if err != nil {
		return nil, err
	}
	zo := e.Zip
	zo.TempDir = e.Store.TempDir()
	res, err := rewrite.EncryptAttachments(bw, src, rewrite.EncryptOptions{Password: pw,
		PasswordDelivery: mode, Zip: zo, Modified: now})
	if err != nil {
		bw.Abort()
		return nil, err
	}
	if _, err := bw.Commit(); err != nil {
		return nil, err
	}
	out := &Encrypted{Suffix: suffix, Mode: mode, Result: res, Notices: &Prepared{}}
	switch mode {
	case rewrite.DeliverySender:
		err = e.notice(out.Notices, []string{sender}, passwordNotice(subject, res, pw, rcpts, true), now)
	case rewrite.DeliveryRecipient:
		for _, r := range external {
			if err = e.notice(out.Notices, []string{r}, passwordNotice(subject, res, pw, nil, false), now.Add(e.RecipientDelay)); err != nil {
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
func (e *Encryptor) password(mode rewrite.PasswordDelivery, external []string) (string, rewrite.PasswordDelivery, error) {
	if mode == rewrite.DeliveryPreset {
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
			return preset, rewrite.DeliveryPreset, nil
		}
		mode = rewrite.DeliverySender // no single agreed password: fall back safely
	}
	if mode != rewrite.DeliveryRecipient {
		mode = rewrite.DeliverySender
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

// notice spools one password mail, due at due.
func (e *Encryptor) notice(p *Prepared, to []string, n pwNotice, due time.Time) error {
	data, err := n.render(e.From, to[0], due)
	if err != nil {
		return err
	}
	return spoolNotice(e.Store, p, to, data, "password notice", due, e.Lifetime)
}

// QueueNotice spools a notice and commits it at once (for notices that
// belong to no acceptance or transition, e.g. one-time download codes).
func QueueNotice(st *spool.Store, to []string, data []byte, what string, now time.Time, lifetime time.Duration) error {
	p := &Prepared{}
	if err := spoolNotice(st, p, to, data, what, now, lifetime); err != nil {
		return err
	}
	err := st.Accept(p.recs[0], nil)
	if err != nil {
		p.Discard(st)
	}
	return err
}

// spoolNotice writes a notice's bytes (fsynced) and adds its record, due
// at due, to p.
func spoolNotice(st *spool.Store, p *Prepared, to []string, data []byte, what string, due time.Time, lifetime time.Duration) error {
	id := spool.NewID()
	bw, err := st.Create(id)
	if err != nil {
		return err
	}
	bw.Write(data)
	sum, err := bw.Commit()
	if err != nil {
		return err
	}
	rec := &spool.Record{ID: id, Kind: spool.KindNotice, State: spool.StateQueued, Size: int64(len(data)),
		SHA256: sum, ReceivedAt: due, NextAttempt: due, Expires: due.Add(lifetime), Subject: what, EightBit: true,
		UTF8: hasNonASCII(to)}
	for _, a := range to {
		rec.Rcpts = append(rec.Rcpts, spool.Rcpt{Addr: a, Status: spool.RcptPending})
	}
	p.recs = append(p.recs, rec)
	return nil
}

// pwNotice is the content of a password mail.
type pwNotice struct {
	subject  string
	zipName  string
	files    []string
	pw       string
	rcpts    []string
	toSender bool
}

func passwordNotice(subject string, res rewrite.EncryptResult, pw string, rcpts []string, toSender bool) pwNotice {
	n := pwNotice{subject: subject, zipName: res.ZipName, pw: pw, rcpts: rcpts, toSender: toSender}
	for _, f := range res.Files {
		n.files = append(n.files, f.Name)
	}
	return n
}

func (n pwNotice) render(from, to string, date time.Time) ([]byte, error) {
	var body strings.Builder
	subj := oneLine(n.subject)
	if n.toSender {
		fmt.Fprintf(&body, "送信したメール「%s」の添付ファイルを暗号化ZIPに変換して送信しました。\n", subj)
		body.WriteString("下記のパスワードを、メール以外の方法（電話、チャットなど）で受信者にお伝えください。\n\n")
	} else {
		fmt.Fprintf(&body, "先にお送りしたメール「%s」の添付ファイル（暗号化ZIP）のパスワードをお知らせします。\n\n", subj)
	}
	fmt.Fprintf(&body, "  ファイル: %s\n  パスワード: %s\n", oneLine(n.zipName), n.pw)
	if len(n.files) > 0 {
		fmt.Fprintf(&body, "  内容: %s\n", oneLine(strings.Join(n.files, ", ")))
	}
	if n.toSender && len(n.rcpts) > 0 {
		fmt.Fprintf(&body, "  宛先: %s\n", strings.Join(n.rcpts, ", "))
	}
	body.WriteString("\n----\n\n")
	if n.toSender {
		fmt.Fprintf(&body, "The attachments of your mail \"%s\" were sent as an encrypted zip.\n", subj)
		body.WriteString("Please give the recipients this password by another channel than e-mail (phone, chat).\n\n")
	} else {
		fmt.Fprintf(&body, "Here is the password of the encrypted zip attached to the mail \"%s\".\n\n", subj)
	}
	fmt.Fprintf(&body, "  File: %s\n  Password: %s\n", oneLine(n.zipName), n.pw)
	if n.toSender && len(n.rcpts) > 0 {
		fmt.Fprintf(&body, "  Recipients: %s\n", strings.Join(n.rcpts, ", "))
	}
	body.WriteString("\n-- \nsendguard\n")
	return renderTextNotice(from, to, "[sendguard] パスワードのお知らせ / Password: "+subj, body.String(), date)
}

// renderTextNotice builds a plain-text UTF-8 notice mail (base64, CRLF).
func renderTextNotice(from, to, subject, text string, date time.Time) ([]byte, error) {
	var h mail.Header
	h.SetDate(date)
	if err := h.GenerateMessageID(); err != nil {
		return nil, err
	}
	fa, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("notice from: %w", err)
	}
	h.SetAddressList("From", []*mail.Address{fa})
	h.SetAddressList("To", []*mail.Address{{Address: to}})
	h.SetSubject(oneLine(subject))
	h.Set("Auto-Submitted", "auto-generated")
	h.Set("MIME-Version", "1.0")
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Transfer-Encoding", "base64")
	var b bytes.Buffer
	w, err := mail.CreateSingleInlineWriter(&b, h)
	if err != nil {
		return nil, err
	}
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := w.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// oneLine keeps untrusted text (subjects, file names) on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
