package main

import (
	"io"
	"log/slog"
	"path/filepath"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/spool"
)

// newTransport picks the delivery transport: the demo outbox when no next
// hop is configured, else SMTP to the next hop.
func newTransport(cfg *config.Config, log *slog.Logger) (gateway.Transport, func(), error) {
	if cfg.Delivery.NextHop == "" {
		return &gateway.Outbox{Dir: filepath.Join(cfg.DataDir, "outbox")}, func() {}, nil
	}
	return newSMTPTransport(cfg, log)
}

func buildDSN(cfg *config.Config) gateway.DSNBuilder {
	return func(rec *spool.Record, failed []spool.Rcpt, body io.Reader) ([]byte, error) {
		return renderDSN(cfg, rec, failed, body)
	}
}

func newInspector(cfg *config.Config, log *slog.Logger, store *spool.Store) (gateway.Inspector, error) {
	return nil, nil
}
