package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/internal/webserve"
)

// newWebServer builds the web listener's server from the web.* keys:
// timeouts, size limits, connection caps and, with web.tls, HTTPS.
func newWebServer(cfg *config.Config, h http.Handler, log *slog.Logger) (*webserve.Server, error) {
	w := cfg.Web
	var tlsCfg *tls.Config
	if w.TLS.Cert != "" {
		cert, err := config.LoadCertificate(w.TLS)
		if err != nil {
			return nil, fmt.Errorf("web.tls: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return webserve.New(webserve.Config{
		ReadTimeout: w.ReadTimeout, WriteTimeout: w.WriteTimeout, IdleTimeout: w.IdleTimeout,
		MaxHeaderBytes: w.MaxHeaderBytes, MaxBodyBytes: w.MaxBodyBytes,
		MaxConnections: w.MaxConnections, MaxConnectionsPerIP: w.MaxConnectionsPerIP,
		TLS: tlsCfg, Log: log,
	}, h), nil
}
