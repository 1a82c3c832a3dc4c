package main

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"syscall"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway/front"
	"github.com/sendguard/sendguard/internal/webserve"
)

// serveWeb applies the web.* keys to srv — timeouts, size limits,
// connection caps and, with web.tls, HTTPS — and returns the function that
// serves ln with them until srv.Shutdown.
// With web.tls, cert serves the certificate (a reload replaces it).
func serveWeb(srv *http.Server, ln net.Listener, cfg *config.Config, cert *front.CertSlot, log *slog.Logger) func() error {
	w := cfg.Web
	warnFDLimit(cfg, log)
	var tlsCfg *tls.Config
	if w.TLS.Cert != "" {
		tlsCfg = cert.TLSConfig()
	}
	ws := webserve.New(webserve.Config{
		ReadTimeout: w.ReadTimeout, WriteTimeout: w.WriteTimeout, IdleTimeout: w.IdleTimeout,
		MaxHeaderBytes: w.MaxHeaderBytes, MaxBodyBytes: w.MaxBodyBytes,
		MaxConnections: w.MaxConnections, MaxConnectionsPerIP: w.MaxConnectionsPerIP,
		TLS: tlsCfg, Log: log,
	}, srv)
	return func() error { return ws.Serve(ln) }
}

// fdReserve is what the spool, the store, delivery and notices need
// besides the listeners' connections.
const fdReserve = 256

// warnFDLimit says so when the open-file limit cannot hold every
// connection the listeners allow plus the spool's files: then a flood on
// one listener would starve the others and the spool of descriptors.
func warnFDLimit(cfg *config.Config, log *slog.Logger) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return
	}
	need := uint64(cfg.SMTP.MaxConnections+cfg.SMTP.Untrusted.MaxConnections+cfg.Web.MaxConnections) +
		uint64(cfg.Delivery.Workers) + fdReserve
	if uint64(rl.Cur) < need { // signed on FreeBSD
		log.Warn("open-file limit is below what the connection caps allow: raise it (LimitNOFILE) or lower smtp.max_connections, smtp.untrusted.max_connections or web.max_connections",
			"limit", rl.Cur, "needed", need)
	}
}
