package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/rules/address"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// transact runs one MAIL/RCPT/DATA transaction for g's recipients on s,
// filling their results. It reports whether s is still in a known state
// and may be reused. On a reused session, a MAIL that finds the peer gone
// (no reply, or 421) fills no result and reports retry instead: nothing
// of the message was sent, so the caller tries once more on a new session.
func (cl *Client) transact(ctx context.Context, s *session, env Envelope, g group, body BodyFunc, results []RcptResult, reused bool) (reusable, retry bool) {
	fail := func(idx []int, f *failure) {
		if f.host == "" {
			f.host = s.host
		}
		for _, i := range idx {
			setFailure(&results[i], f)
		}
	}
	// After a peer reply the session is in sync, unless it is closing (421).
	inSync := func(f *failure) bool { return f.fromPeer && f.code != 421 }

	from := mailFrom(env.MailFrom) // parsed once for both uses
	utf8 := needsSMTPUTF8(env, from, g)
	if f := cl.precheck(s, env, utf8); f != nil {
		fail(g.idx, f)
		return true, false
	}
	r, err := body()
	if err != nil {
		fail(g.idx, tempFailure("4.3.0", "cannot open spooled message"))
		cl.log.Error("open message body", "err", err)
		return true, false
	}
	defer r.Close()

	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()

	s.clean = false
	if err := s.c.Mail(from, cl.mailOptions(s, env, utf8)); err != nil {
		if reused && peerGone(err) && ctx.Err() == nil {
			return false, true
		}
		f := classify(err)
		fail(g.idx, f)
		return inSync(f), false
	}
	var accepted []int
	for n, i := range g.idx {
		rcpt := env.Rcpts[i]
		if err := s.c.Rcpt(g.wire[i], cl.rcptOptions(env, rcpt)); err != nil {
			f := classify(err)
			if !inSync(f) {
				// The connection broke: nobody, accepted or not, is done.
				fail(append(accepted, g.idx[n:]...), f)
				return false, false
			}
			fail([]int{i}, f)
			continue
		}
		accepted = append(accepted, i)
	}
	if len(accepted) == 0 {
		return true, false // not clean: the next user sends RSET
	}
	w, err := s.c.Data()
	if err != nil {
		f := classify(err)
		fail(accepted, f)
		return inSync(f), false
	}
	src := &errReader{r: r}
	if _, err := bufpool.Copy(w, src); err != nil {
		// Never send the final dot after a short copy: drop the connection
		// so the peer discards the partial message.
		s.conn.Close()
		if src.err != nil {
			cl.log.Error("read message body", "err", src.err)
			fail(accepted, tempFailure("4.3.0", "error reading spooled message"))
		} else {
			fail(accepted, classify(err))
		}
		return false, false
	}
	resp, err := w.CloseWithResponse()
	s.msgs++
	if err != nil {
		f := classify(err)
		fail(accepted, f)
		// A reply to the data, even a refusal, ends the transaction.
		s.clean = inSync(f)
		return s.clean, false
	}
	s.clean = true
	enh, text := splitEnhanced(resp.StatusText)
	done := make([]RcptResult, 0, len(accepted))
	for _, i := range accepted {
		results[i] = RcptResult{Rcpt: env.Rcpts[i], Code: 250, Enhanced: enh, Message: text,
			Delivered: true, RemoteHost: s.host, FromPeer: true}
		done = append(done, results[i])
	}
	if env.Accepted != nil {
		env.Accepted(done)
	}
	return ctx.Err() == nil, false
}

// peerGone reports whether a command's error says the peer closed the
// session: no reply at all (EOF, reset, broken pipe) or 421.
func peerGone(err error) bool {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code == 421
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// needsSMTPUTF8 reports whether the transaction for g needs SMTPUTF8: the
// client asked for it, or an address is not ASCII (RFC 6531 §3.2: such an
// address may only be relayed to a server that offers SMTPUTF8). from is
// mailFrom(env.MailFrom).
func needsSMTPUTF8(env Envelope, from string, g group) bool {
	if env.SMTPUTF8 || !isASCII(from) {
		return true
	}
	for _, i := range g.idx {
		if !isASCII(g.wire[i]) {
			return true
		}
	}
	return false
}

// mailFrom is the reverse-path as sent: in wire form when it parses, as
// stored otherwise (the null sender, or a record from an older version).
func mailFrom(from string) string {
	if a, err := address.Parse(from); err == nil {
		return wireForm(a)
	}
	return from
}

// precheck refuses, before MAIL, what the peer told us it cannot take.
func (cl *Client) precheck(s *session, env Envelope, utf8 bool) *failure {
	if env.RequireTLS && !s.tls {
		return tempFailure("4.7.0", "TLS is required for these recipients but the session with %s is not encrypted", s.host)
	}
	if max, ok := s.c.MaxMessageSize(); ok && max > 0 && env.Size > int64(max) {
		f := permFailure(552, "5.3.4", "message size %d exceeds the %d bytes %s accepts", env.Size, max, s.host)
		return f
	}
	if utf8 {
		if ok, _ := s.c.Extension("SMTPUTF8"); !ok {
			return permFailure(550, "5.6.7", "%s does not support SMTPUTF8, which this message needs", s.host)
		}
	}
	return nil
}

func (cl *Client) mailOptions(s *session, env Envelope, utf8 bool) *smtp.MailOptions {
	o := &smtp.MailOptions{Size: env.Size, UTF8: utf8}
	switch strings.ToUpper(env.Ret) {
	case RetFull:
		o.Return = smtp.DSNReturnFull
	case RetHdrs:
		o.Return = smtp.DSNReturnHeaders
	}
	if printableASCII(env.EnvID) {
		o.EnvelopeID = env.EnvID
	}
	return o
}

func (cl *Client) rcptOptions(env Envelope, rcpt string) *smtp.RcptOptions {
	p, ok := env.RcptDSN[rcpt]
	if !ok {
		return nil
	}
	o := &smtp.RcptOptions{}
	if n := notifySet(p.Notify); n != nil {
		o.Notify = n
	}
	if p.ORcpt != "" && !strings.ContainsAny(p.ORcpt, "\r\n") {
		o.OriginalRecipient = p.ORcpt
		o.OriginalRecipientType = smtp.DSNAddressTypeRFC822
		if !printableASCII(p.ORcpt) {
			o.OriginalRecipientType = smtp.DSNAddressTypeUTF8
		}
	}
	return o
}

// notifySet returns a valid NOTIFY set (RFC 3461 §4.1) or nil: go-smtp
// refuses a malformed one, which would fail the whole recipient.
func notifySet(in []string) []smtp.DSNNotify {
	var out []smtp.DSNNotify
	never := false
	for _, v := range in {
		switch n := smtp.DSNNotify(strings.ToUpper(v)); n {
		case smtp.DSNNotifyNever:
			never = true
		case smtp.DSNNotifySuccess, smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed:
			if !containsNotify(out, n) {
				out = append(out, n)
			}
		default:
			return nil
		}
	}
	if never {
		if len(out) > 0 {
			return nil
		}
		return []smtp.DSNNotify{smtp.DSNNotifyNever}
	}
	return out
}

func containsNotify(s []smtp.DSNNotify, n smtp.DSNNotify) bool {
	for _, x := range s {
		if x == n {
			return true
		}
	}
	return false
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// splitEnhanced splits "2.0.0 Ok: queued" into its enhanced code and text.
func splitEnhanced(s string) (string, string) {
	s = oneLine(s)
	code, rest, ok := strings.Cut(s, " ")
	if ok && enhancedCode(code) {
		return code, rest
	}
	return "2.0.0", s
}

// enhancedCode reports whether code scans as "%d.%d.%d". The usual form
// (digits, dot, digits, dot, digits, none longer than 3) is checked
// directly, anything else with fmt.Sscanf as before.
func enhancedCode(code string) bool {
	parts, i := 0, 0
	for parts < 3 {
		j := i
		for j < len(code) && j-i <= 3 && code[j] >= '0' && code[j] <= '9' {
			j++
		}
		if j == i || j-i > 3 {
			break
		}
		parts++
		if j == len(code) {
			i = j
			break
		}
		if parts == 3 || code[j] != '.' {
			break
		}
		i = j + 1
	}
	if parts == 3 && i == len(code) {
		return true
	}
	var a, b, c int
	n, _ := fmt.Sscanf(code, "%d.%d.%d", &a, &b, &c)
	return n == 3
}

// errReader remembers a read error so that it is told apart from a write
// error to the peer.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}
