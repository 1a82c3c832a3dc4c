package main

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/dsn"
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

// buildDSN renders RFC 3464 reports for the delivery runner.
func buildDSN(cfg *config.Config) gateway.DSNBuilder {
	host := gateway.Hostname(cfg)
	return func(rec *spool.Record, failed []spool.Rcpt, body io.Reader) ([]byte, error) {
		p := dsn.Params{ReportingMTA: host, To: rec.MailFrom, QueueID: rec.ID, EnvID: rec.DSNEnvID,
			ArrivalDate: rec.ReceivedAt, Original: body, Return: rec.DSNRet}
		for _, rc := range failed {
			r := dsn.Recipient{Final: rc.Addr, Action: dsn.Failed, Status: rc.Enhanced, RemoteMTA: rc.Remote,
				LastAttempt: rc.Updated}
			if _, orig, ok := strings.Cut(rc.ORcpt, ";"); ok {
				r.Original = orig
			}
			if r.Status == "" || r.Status[0] != '5' && r.Status[0] != '4' {
				r.Status = "5.0.0"
			}
			if r.Status[0] == '4' { // expired after temporary failures
				r.Status = "5" + r.Status[1:]
			}
			if rc.Code > 0 && rc.Remote != "" {
				r.Diagnostic = fmt.Sprintf("%d %s %s", rc.Code, rc.Enhanced, rc.Message)
			} else {
				r.Reason = rc.Message
			}
			p.Recipients = append(p.Recipients, r)
		}
		return dsn.Build(p)
	}
}
