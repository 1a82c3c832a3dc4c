// Package webserve runs sendguard's web listener (pages, download links,
// console, metrics) with the limits a server facing senders' browsers
// needs: read, write and idle timeouts, header and body size limits, and a
// cap on connections, in total and per client address.
//
// Invariants: a request's headers and body are read within ReadTimeout
// (headers within 10s); every write of a response completes within
// WriteTimeout, so a large download goes on as long as the client keeps
// reading; an idle keep-alive connection lives IdleTimeout at most, and is
// closed first when the connection cap is reached; no more than
// MaxConnections connections are open (further ones wait in the listen
// queue) and no more than MaxConnectionsPerIP from one address (further
// ones are closed at once).
package webserve

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Config holds the limits; see the web.* keys in the README.
type Config struct {
	ReadTimeout         time.Duration
	WriteTimeout        time.Duration
	IdleTimeout         time.Duration
	MaxHeaderBytes      int
	MaxBodyBytes        int64
	MaxConnections      int
	MaxConnectionsPerIP int
	// TLS serves HTTPS when set.
	TLS *tls.Config
	Log *slog.Logger
}

// maxHeaderTime bounds reading request headers, whatever ReadTimeout is.
const maxHeaderTime = 10 * time.Second

// Server serves an http.Server under the limits.
type Server struct {
	cfg   Config
	http  *http.Server
	conns *connTable
}

// New applies c's limits to srv — its handler is wrapped, its timeouts,
// size limit, TLS and connection-state hook are set — and returns the
// Server that serves it. srv.Shutdown (or the Server's) stops it.
func New(c Config, srv *http.Server) *Server {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: c, http: srv, conns: newConnTable(c.MaxConnections, c.MaxConnectionsPerIP)}
	srv.Handler = s.limits(srv.Handler)
	srv.ReadHeaderTimeout = min(maxHeaderTime, c.ReadTimeout)
	srv.ReadTimeout = c.ReadTimeout
	srv.WriteTimeout = c.WriteTimeout
	srv.IdleTimeout = c.IdleTimeout
	srv.MaxHeaderBytes = c.MaxHeaderBytes
	srv.TLSConfig = c.TLS
	srv.ConnState = s.conns.state
	// Handshake failures and timeouts are the client's business.
	srv.ErrorLog = slog.NewLogLogger(c.Log.With("component", "web").Handler(), slog.LevelDebug)
	return s
}

// Serve accepts connections on ln until Shutdown; it returns
// http.ErrServerClosed then.
func (s *Server) Serve(ln net.Listener) error {
	l := &limitListener{Listener: ln, t: s.conns, done: make(chan struct{})}
	if s.cfg.TLS != nil {
		return s.http.ServeTLS(l, "", "")
	}
	return s.http.Serve(l)
}

// Shutdown stops accepting and waits for requests in progress until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.http.Shutdown(ctx)
}

// limits applies the body limit and the per-write deadline to every
// request.
func (s *Server) limits(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			// The body is not read: close rather than drain it.
			w.Header().Set("Connection", "close")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		h.ServeHTTP(&progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: s.cfg.WriteTimeout}, r)
	})
}

// progressWriter gives each write of a response its own deadline, so a
// download larger than what WriteTimeout allows in one go continues as long
// as the client reads, while a client that stops reading is cut off.
type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if err := p.rc.SetWriteDeadline(time.Now().Add(p.d)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (Flush, deadlines).
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
