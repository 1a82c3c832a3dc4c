package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway/delivery"
	"github.com/sendguard/sendguard/gateway/front"
	"github.com/sendguard/sendguard/gateway/outbound"
)

// smtpTransport adapts the outbound client to the delivery runner.
type smtpTransport struct {
	c *outbound.Client
}

func newSMTPTransport(cfg *config.Config, log *slog.Logger) (delivery.Transport, func(), error) {
	return newRelayTransport(cfg, cfg.Delivery.NextHop, log)
}

// newRelayTransport delivers to hop with the delivery settings (TLS, AUTH,
// timeouts) of the config.
func newRelayTransport(cfg *config.Config, hop string, log *slog.Logger) (delivery.Transport, func(), error) {
	d := cfg.Delivery
	oc := outbound.Config{
		NextHop:         hop,
		HeloName:        front.Hostname(cfg),
		TLS:             outbound.TLSPolicy(d.TLS),
		TLSVerify:       d.TLSVerify,
		Username:        d.Username,
		ConnectTimeout:  d.ConnectTimeout,
		CommandTimeout:  d.CommandTimeout,
		MaxConnsPerDest: d.MaxConnsPerDest,
	}
	if d.PasswordFile != "" {
		pw, err := os.ReadFile(d.PasswordFile)
		if err != nil {
			return nil, nil, fmt.Errorf("delivery.password_file: %w", err)
		}
		oc.Password = strings.TrimRight(string(pw), "\r\n")
	}
	c, err := outbound.New(oc, log)
	if err != nil {
		return nil, nil, fmt.Errorf("delivery: %w", err)
	}
	return &smtpTransport{c: c}, func() { c.Close() }, nil
}

func (t *smtpTransport) Deliver(ctx context.Context, d *delivery.Delivery) []delivery.Result {
	env := outbound.Envelope{MailFrom: d.MailFrom, Size: d.Size, SMTPUTF8: d.UTF8, EightBit: d.EightBit, RequireTLS: d.RequireTLS,
		Ret: d.DSNRet, EnvID: d.DSNEnvID, RcptDSN: map[string]outbound.RcptDSN{}}
	for _, r := range d.Rcpts {
		env.Rcpts = append(env.Rcpts, r.Addr)
		if r.Notify != "" || r.ORcpt != "" {
			rd := outbound.RcptDSN{}
			if r.Notify != "" {
				rd.Notify = strings.Split(r.Notify, ",")
			}
			if _, addr, ok := strings.Cut(r.ORcpt, ";"); ok {
				rd.ORcpt = addr
			}
			env.RcptDSN[r.Addr] = rd
		}
	}
	if d.Accepted != nil {
		env.Accepted = func(rs []outbound.RcptResult) { d.Accepted(gatewayResults(rs)) }
	}
	return gatewayResults(t.c.Deliver(ctx, env, outbound.BodyFunc(d.Body)))
}

func gatewayResults(res []outbound.RcptResult) []delivery.Result {
	out := make([]delivery.Result, len(res))
	for i, r := range res {
		out[i] = delivery.Result{Rcpt: r.Rcpt, Delivered: r.Delivered, Temporary: r.Temporary, Code: r.Code,
			Enhanced: r.Enhanced, Message: r.Message, Remote: r.RemoteHost, FromPeer: r.FromPeer}
	}
	return out
}
