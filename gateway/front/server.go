// Package front is sendguard's SMTP front, a thin adapter: it speaks SMTP
// to the corporate MTA (limits, hygiene, AUTH, envelope syntax), hands each
// message to an intake transaction and answers with the reply code the
// transaction's typed outcome maps to (codes.go). It writes nothing
// itself and knows nothing of verdicts, holds or delivery.
//
// Invariants: 250 is sent only for an outcome the intake reports committed,
// that is after the body file, the spool directory and the record are
// fsynced; every internal failure reaches the client as a
// temporary 451 4.3.0 (codes.go); nothing is relayed for a client that is
// neither in smtp.trusted_networks nor authenticated over TLS; such
// outsiders never hold a slot of the trusted pool, and are disconnected
// after smtp.untrusted's deadline and command limits (hygiene.go).
package front

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/intake"
	"github.com/sendguard/sendguard/internal/ratelimit"
)

// Server is the inbound SMTP server.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	intake   *intake.Stage
	metrics  *gateway.Metrics
	hostname string

	trusted   []netip.Prefix
	users     map[string][]byte
	dummyHash []byte // placeholder for unknown users, same cost as theirs
	authIP    *ratelimit.Backoff
	authAcct  *ratelimit.Backoff

	smtp      *smtp.Server
	lim       *connLimiter // trusted and authenticated clients
	outsiders *connLimiter // others until they authenticate

	mu        sync.RWMutex
	shutting  bool
	listeners []net.Listener // closed by Shutdown
	inflight  sync.WaitGroup // DATA phases in progress
	inData    atomic.Int64   // how many (the WaitGroup cannot tell)
}

// Options are the server's dependencies.
type Options struct {
	Config  *config.Config
	Log     *slog.Logger
	Intake  *intake.Stage // takes each message: spool, inspect, commit
	Metrics *gateway.Metrics
	// Cert serves smtp.tls's certificate; nil loads it from the config
	// once, for good.
	Cert *CertSlot
}

// NewServer builds the inbound server.
func NewServer(o Options) (*Server, error) {
	cfg := o.Config
	s := &Server{
		cfg: cfg, log: o.Log.With("component", "smtpd"), intake: o.Intake,
		metrics: o.Metrics, hostname: Hostname(cfg),
		users: map[string][]byte{},
	}
	if s.intake == nil {
		return nil, errors.New("smtp server: no intake to hand messages to")
	}
	for _, n := range cfg.SMTP.TrustedNetworks {
		p, err := config.ParsePrefix(n)
		if err != nil {
			return nil, fmt.Errorf("smtp.trusted_networks: %w", err)
		}
		s.trusted = append(s.trusted, p)
	}
	for _, u := range cfg.SMTP.Users {
		s.users[u.Name] = []byte(u.PasswordHash)
	}
	h, cost, mixed, err := placeholderHash(s.users)
	if err != nil {
		return nil, fmt.Errorf("placeholder hash: %w", err)
	}
	s.dummyHash = h
	if mixed {
		s.log.Warn("smtp.users hashes have different bcrypt costs: AUTH timing tells the cheaper ones from unknown users; rehash them with sendguard passwd-hash", "placeholder_cost", cost)
	}
	ab := cfg.SMTP.AuthBackoff
	s.authIP = ratelimit.NewBackoff(ratelimit.BackoffConfig{Free: ab.PerIPFree, Base: ab.Base, Max: ab.Max})
	s.authAcct = ratelimit.NewBackoff(ratelimit.BackoffConfig{Free: ab.PerAccountFree, Base: ab.Base, Max: ab.Max})

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = s.hostname
	srv.MaxMessageBytes = cfg.SMTP.MaxMessageBytes
	srv.MaxRecipients = cfg.SMTP.MaxRecipients
	// go-smtp applies its limit to DATA too; ours (the intake's) must refuse
	// first, with a reply, so the library's is higher (see drainData).
	srv.MaxLineLength = cfg.SMTP.MaxLineLength + lineLimitSlack
	srv.ReadTimeout = cfg.SMTP.CommandTimeout
	srv.WriteTimeout = cfg.SMTP.CommandTimeout
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.AllowInsecureAuth = false
	srv.ErrorLog = slogAdapter{s.log}
	if cfg.SMTP.TLS.Cert != "" {
		slot := o.Cert
		if slot == nil {
			cert, err := config.LoadCertificate(cfg.SMTP.TLS)
			if err != nil {
				return nil, err
			}
			slot = &CertSlot{}
			slot.Set(&cert)
		}
		srv.TLSConfig = slot.TLSConfig()
	}
	s.smtp = srv
	s.lim = newConnLimiter(cfg.SMTP.MaxConnections, cfg.SMTP.MaxConnectionsPerIP)
	s.outsiders = newConnLimiter(cfg.SMTP.Untrusted.MaxConnections, cfg.SMTP.Untrusted.MaxConnectionsPerIP)
	return s, nil
}

// Hostname is the name sendguard uses in HELO, Received and DSNs.
func Hostname(cfg *config.Config) string {
	if cfg.Hostname != "" {
		return cfg.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	err := s.smtp.Serve(&limitListener{Listener: l, srv: s})
	s.mu.RLock()
	shutting := s.shutting
	s.mu.RUnlock()
	if errors.Is(err, smtp.ErrServerClosed) || (shutting && errors.Is(err, net.ErrClosed)) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets DATA phases in progress finish until ctx
// ends, then closes every connection. Clients between transactions are
// disconnected; their MTA retries.
//
// It closes the listeners itself and calls go-smtp's Close once at the
// end: go-smtp's Shutdown and Close both close the same channel, so using
// both races ("close of closed channel"), and its Shutdown waits for idle
// clients that may never leave.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		return nil
	}
	s.shutting = true
	listeners := s.listeners
	s.listeners = nil
	s.mu.Unlock()
	for _, l := range listeners {
		l.Close()
	}
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("smtp shutdown: %w", ctx.Err())
	}
	s.smtp.Close()
	return err
}

// beginData registers a DATA phase; it fails once shutdown has begun.
func (s *Server) beginData() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.shutting {
		return false
	}
	s.inflight.Add(1)
	s.inData.Add(1)
	return true
}

// endData ends a DATA phase beginData registered.
func (s *Server) endData() {
	s.inData.Add(-1)
	s.inflight.Done()
}

func (s *Server) isTrusted(ip netip.Addr) bool {
	for _, p := range s.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	ip := addrIP(c.Conn().RemoteAddr())
	sess := &session{
		srv: s, conn: c, ip: ip, trusted: s.isTrusted(ip),
		log: s.log.With("conn", fmt.Sprintf("%p", c)[2:], "client_ip", ip.String()),
	}
	if _, g := guardOf(c.Conn()); g.active() {
		sess.guard = g
		g.setReply(c.Conn)
	}
	return hygieneSession{sess}, nil
}

// promote lifts an authenticated outsider's limits and moves it to the
// trusted pool when that has room.
func (s *Server) promote(sess *session) {
	lc, g := guardOf(sess.conn.Conn())
	if g == nil {
		return
	}
	g.lift()
	if lc.moveTo(s.lim) {
		sess.log.Debug("authenticated client moved to the trusted connection pool")
	}
}

// slogAdapter sends go-smtp's own error log to slog.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Printf(format string, v ...any) { a.log.Warn(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Println(v ...any)               { a.log.Warn(fmt.Sprint(v...)) }
