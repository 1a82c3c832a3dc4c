package front

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/intake"
	"github.com/sendguard/sendguard/spool"
)

// session is one SMTP connection from the corporate MTA.
type session struct {
	srv     *Server
	conn    *smtp.Conn
	log     *slog.Logger
	ip      netip.Addr
	trusted bool
	user    string     // authenticated user, if any
	guard   *connGuard // outsider limits until AUTH succeeds (hygiene.go)

	tx       *intake.Tx // current transaction
	smtputf8 bool       // its MAIL FROM carried SMTPUTF8
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if !s.trusted && s.user == "" {
		s.srv.metrics.Rejected.WithLabelValues("relay_denied").Inc()
		s.log.Warn("relay denied", "mail_from", from)
		return errRelayDenied
	}
	smtputf8 := opts != nil && opts.UTF8
	if from != "" {
		a, rerr := s.envelopeAddress(from, smtputf8, false)
		if rerr != nil {
			s.srv.metrics.Rejected.WithLabelValues("bad_address").Inc()
			return rerr
		}
		from = a.String()
	}
	if opts != nil && opts.Size > s.srv.cfg.SMTP.MaxMessageBytes {
		s.srv.metrics.Rejected.WithLabelValues("size").Inc()
		return errTooBig
	}
	env := gateway.Envelope{MailFrom: from}
	if opts != nil {
		env.UTF8 = opts.UTF8
		env.EightBit = opts.Body == smtp.Body8BitMIME
		env.DSNRet = string(opts.Return)
		env.DSNEnvID = opts.EnvelopeID
		env.Size = opts.Size
	}
	s.abort()
	s.tx, s.smtputf8 = s.srv.intake.Start(env), env.UTF8
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.tx == nil {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "MAIL first"}
	}
	a, rerr := s.envelopeAddress(to, s.smtputf8, true)
	if rerr != nil {
		reason := "bad_address"
		if a.Routed() {
			reason = "routed_address"
		}
		s.srv.metrics.Rejected.WithLabelValues(reason).Inc()
		s.log.Warn("recipient refused", "reason", reason, "reply", rerr.EnhancedCode)
		return rerr
	}
	if a.Routed() {
		s.log.Warn("routed recipient accepted as external", "routing", a.Routing.String())
	}
	r := spool.Rcpt{Addr: a.String(), Status: spool.RcptPending}
	if opts != nil {
		var notify []string
		for _, n := range opts.Notify {
			notify = append(notify, string(n))
		}
		r.Notify = strings.Join(notify, ",")
		if opts.OriginalRecipient != "" {
			r.ORcpt = string(opts.OriginalRecipientType) + ";" + opts.OriginalRecipient
		}
	}
	s.tx.AddRcpt(r)
	return nil
}

func (s *session) Data(r io.Reader) error {
	tx := s.tx
	if tx == nil {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "MAIL first"}
	}
	if !s.srv.beginData() {
		return errShuttingDown
	}
	// The phase ends when its reply is written, which go-smtp does after
	// Data returns: Shutdown closes every connection once the last phase
	// has ended, and must not cut a 250 for a message already committed
	// (the client would send it again).
	ended := false
	defer func() {
		if !ended {
			s.srv.endData()
		}
	}()
	log := s.log.With("queue_id", tx.ID())
	ir := &idleReader{r: r, conn: s.conn.Conn(), timeout: s.srv.cfg.SMTP.DataTimeout}
	err := s.srv.receive(log, tx, s.info(), ir)
	if errors.Is(err, errTimeout) {
		// The rest of the body must never be read as commands.
		s.conn.Conn().Close()
		return err
	}
	if lc, _ := guardOf(s.conn.Conn()); lc != nil {
		end := s.srv.endData
		lc.afterWrite.Store(&end)
		ended = true
	}
	return err
}

// info describes the client for the Received header and the record, as
// it is at DATA (an AUTH may come after MAIL FROM).
func (s *session) info() intake.Client {
	_, tlsOn := s.conn.TLSConnectionState()
	return intake.Client{IP: s.ip, Helo: s.conn.Hostname(), TLS: tlsOn, User: s.user}
}

// abort ends the current transaction, if any, without a message.
func (s *session) abort() {
	if s.tx != nil {
		s.tx.Abort()
		s.tx = nil
	}
}

func (s *session) Reset() { s.abort() }

func (s *session) Logout() error { s.abort(); return nil }

// loginServer implements the AUTH LOGIN exchange (draft-murchison-sasl-login),
// which Exchange and many MTAs still use.
type loginServer struct {
	auth func(user, pass string) error
	step int
	user string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(resp) > 0 { // initial response carries the user name
			l.user = string(resp)
			l.step = 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.auth(l.user, string(resp))
	}
	return nil, true, fmt.Errorf("unexpected AUTH LOGIN step")
}

func addrIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ta.IP)
		return ip.Unmap()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
