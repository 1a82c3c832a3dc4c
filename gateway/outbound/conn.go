package outbound

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one established SMTP connection, ready for MAIL.
type session struct {
	c *smtp.Client
	// conn is the TCP connection under any TLS: closing it aborts
	// everything, and peekConn looks at it.
	conn net.Conn
	host string // "name[ip]" for results and logs
	tls  bool
	msgs int
	// clean: no MAIL transaction is open on the peer (none begun since
	// the greeting or an RSET, or the last one ended with the reply to
	// its data), so a reuse needs no RSET to clear it.
	clean bool
	since time.Time   // when it went idle
	timer *time.Timer // idle expiry; guarded by dest.mu
}

// errTLSFallback asks connect to retry the address without STARTTLS.
var errTLSFallback = errors.New("STARTTLS failed")

// connect opens a session to t: greeting, EHLO, STARTTLS per policy, AUTH.
func (cl *Client) connect(ctx context.Context, t target) (*session, error) {
	s, err := cl.dialOnce(ctx, t, cl.cfg.TLS != TLSNone)
	if errors.Is(err, errTLSFallback) {
		cl.log.Warn("STARTTLS failed, retrying in plain text", "remote", t.host, "addr", t.addr, "err", err)
		s, err = cl.dialOnce(ctx, t, false)
	}
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	err = cl.auth(s)
	if !stop() {
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		s.conn.Close()
		return nil, err
	}
	return s, nil
}

func (cl *Client) dialOnce(ctx context.Context, t target, tryTLS bool) (*session, error) {
	host := fmt.Sprintf("%s[%s]", t.host, strings.TrimSuffix(strings.TrimPrefix(hostOnly(t.addr), "["), "]"))
	dctx, cancel := context.WithTimeout(ctx, cl.cfg.ConnectTimeout)
	raw, err := cl.cfg.Dialer.DialContext(dctx, "tcp", t.addr)
	cancel()
	if err != nil {
		return nil, &failure{code: 451, enhanced: "4.4.1", msg: fmt.Sprintf("connect to %s: %s", host, oneLine(err.Error())), temp: true}
	}
	// Closing the socket is the only way to interrupt a blocked exchange.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	s := &session{conn: raw, host: host, clean: true}
	fail := func(err error) (*session, error) {
		raw.Close()
		f := *classify(err)
		f.host = host
		return nil, &f
	}
	conn := net.Conn(&deadlineConn{Conn: raw, timeout: cl.cfg.DataTimeout})
	conn, err = cl.negotiate(ctx, conn, t, tryTLS)
	switch {
	case errors.Is(err, errTLSFallback):
		raw.Close()
		return nil, err
	case err != nil:
		return fail(err)
	}
	_, s.tls = conn.(*prefacedConn).Conn.(*tls.Conn)
	s.c = smtp.NewClient(conn)
	s.c.CommandTimeout = cl.cfg.CommandTimeout
	s.c.SubmissionTimeout = cl.cfg.DataTimeout
	if err := s.c.Hello(cl.cfg.HeloName); err != nil {
		// With TLS 1.3 the peer may reject the handshake only after our
		// side finished it: the alert arrives with the first reply.
		var se *smtp.SMTPError
		if s.tls && !errors.As(err, &se) && ctx.Err() == nil && cl.tlsFallbackAllowed() {
			raw.Close()
			return nil, fmt.Errorf("%w: %w", errTLSFallback, err)
		}
		return fail(err)
	}
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	return s, nil
}

// negotiate reads the greeting and, with tryTLS, sends EHLO and (when
// offered) STARTTLS. It does this itself because go-smtp can only start TLS
// before our own EHLO name is set, and hides the greeting. The returned
// conn replays a synthetic greeting so that a fresh smtp.Client can take
// over at the EHLO stage (a second EHLO is allowed at any time, RFC 5321
// §4.1.4).
func (cl *Client) negotiate(ctx context.Context, conn net.Conn, t target, tryTLS bool) (net.Conn, error) {
	br := bufio.NewReader(conn)
	tp := textproto.NewReader(br)
	_ = conn.SetReadDeadline(time.Now().Add(cl.cfg.CommandTimeout))
	defer conn.SetReadDeadline(time.Time{})

	_, msg, err := tp.ReadResponse(220)
	if err != nil {
		return nil, replyError(err, msg)
	}
	// The greeting starts with the server's name (RFC 5321 §4.2). Our own
	// name there means the next hop is this gateway: a mail loop
	// (Postfix: "mail for ... loops back to myself").
	if name, _, _ := strings.Cut(strings.TrimSpace(msg), " "); strings.EqualFold(strings.TrimSuffix(name, "."), cl.cfg.HeloName) {
		cl.log.Error("next hop greets with our own name: mail loop", "remote", t.host, "addr", t.addr)
		return nil, &failure{code: 451, enhanced: "4.4.6", temp: true,
			msg: fmt.Sprintf("mail for %s loops back to myself", t.host)}
	}
	plain := func() net.Conn {
		return &prefacedConn{Conn: conn, r: io.MultiReader(strings.NewReader("220 continue\r\n"), br)}
	}
	if !tryTLS {
		return plain(), nil
	}
	if _, err := fmt.Fprintf(conn, "EHLO %s\r\n", cl.cfg.HeloName); err != nil {
		return nil, err
	}
	offered := false
	_, msg, err = tp.ReadResponse(250)
	switch {
	case err == nil:
		for _, line := range strings.Split(msg, "\n")[1:] {
			if strings.EqualFold(strings.TrimSpace(line), "STARTTLS") {
				offered = true
			}
		}
	case isReply(err, 5):
		// No ESMTP: the smtp.Client will fall back to HELO.
	default:
		return nil, replyError(err, msg)
	}

	required := cl.cfg.TLS == TLSRequired
	if !offered {
		if required {
			return nil, &failure{code: 451, enhanced: "4.7.0", temp: true,
				msg: fmt.Sprintf("TLS required but %s does not offer STARTTLS", t.host)}
		}
		return plain(), nil
	}
	// From here on a failure may fall back to plain text only when neither
	// TLS nor verification is required.
	soft := func(err error) error {
		if cl.tlsFallbackAllowed() {
			return fmt.Errorf("%w: %w", errTLSFallback, err)
		}
		return &failure{code: 451, enhanced: "4.7.5", temp: true,
			msg: fmt.Sprintf("TLS with %s failed: %s", t.host, oneLine(err.Error()))}
	}
	if _, err := io.WriteString(conn, "STARTTLS\r\n"); err != nil {
		return nil, err
	}
	if _, msg, err := tp.ReadResponse(220); err != nil {
		if !isReply(err, 0) {
			return nil, err
		}
		return nil, soft(replyError(err, msg))
	}
	if br.Buffered() > 0 {
		// Plain text injected after the 220 must not be read as if it came
		// over TLS (CVE-2011-0411).
		return nil, soft(errors.New("data after STARTTLS reply"))
	}
	tc := tls.Client(conn, &tls.Config{
		ServerName:         t.host,
		RootCAs:            cl.cfg.RootCAs,
		InsecureSkipVerify: !cl.cfg.TLSVerify, //nolint:gosec // opt-in, see Config.TLSVerify
		MinVersion:         tls.VersionTLS12,
	})
	hctx, cancel := context.WithTimeout(ctx, cl.cfg.CommandTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return nil, soft(err)
	}
	return &prefacedConn{Conn: tc, r: io.MultiReader(strings.NewReader("220 continue\r\n"), tc)}, nil
}

// tlsFallbackAllowed says whether a failed TLS attempt may be retried in
// plain text: only when neither TLS nor verification is required.
func (cl *Client) tlsFallbackAllowed() bool {
	return cl.cfg.TLS == TLSOpportunistic && !cl.cfg.TLSVerify
}

// auth authenticates when credentials are configured and the peer offers
// AUTH. Failures defer (like Postfix's smtp_sasl_auth_soft_bounce): a
// credentials problem must not bounce mail.
func (cl *Client) auth(s *session) error {
	if cl.cfg.Username == "" {
		return nil
	}
	if ok, _ := s.c.Extension("AUTH"); !ok {
		cl.log.Warn("peer does not offer AUTH, sending without it", "remote", s.host)
		return nil
	}
	if !s.tls && !cl.cfg.AllowInsecureAuth {
		return &failure{code: 451, enhanced: "4.7.0", temp: true, host: s.host,
			msg: "refusing to send credentials without TLS"}
	}
	var mech sasl.Client
	switch {
	case s.c.SupportsAuth(sasl.Plain):
		mech = sasl.NewPlainClient("", cl.cfg.Username, cl.cfg.Password)
	case s.c.SupportsAuth(sasl.Login):
		mech = sasl.NewLoginClient(cl.cfg.Username, cl.cfg.Password)
	default:
		return &failure{code: 451, enhanced: "4.7.4", temp: true, host: s.host,
			msg: "peer offers no AUTH mechanism we support (PLAIN, LOGIN)"}
	}
	if err := s.c.Auth(mech); err != nil {
		f := *classify(err)
		f.temp, f.host = true, s.host
		f.msg = "authentication failed: " + f.msg
		return &f
	}
	return nil
}

// replyError converts a textproto reply error into an *smtp.SMTPError.
func replyError(err error, msg string) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return err
	}
	se := &smtp.SMTPError{Code: te.Code, Message: te.Msg, EnhancedCode: smtp.NoEnhancedCode}
	if code, rest, ok := strings.Cut(te.Msg, " "); ok {
		var e smtp.EnhancedCode
		if n, _ := fmt.Sscanf(code, "%d.%d.%d", &e[0], &e[1], &e[2]); n == 3 {
			se.EnhancedCode, se.Message = e, rest
		}
	}
	return se
}

// isReply reports whether err is an SMTP reply of the given class (0: any).
func isReply(err error, class int) bool {
	var te *textproto.Error
	return errors.As(err, &te) && (class == 0 || te.Code/100 == class)
}

func hostOnly(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// deadlineConn bounds every write, so a peer that stops reading mid-body
// cannot block a delivery forever (go-smtp sets no deadline while the body
// is written).
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// prefacedConn reads from r (a synthetic greeting, then the connection).
type prefacedConn struct {
	net.Conn
	r io.Reader
}

func (c *prefacedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
