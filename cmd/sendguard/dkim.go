package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/crypto/dkim"
	"github.com/sendguard/sendguard/gateway/delivery"
)

// dkimCmd runs `sendguard dkim keygen`.
func dkimCmd(args []string) error {
	c := newCommand("dkim keygen", "dkim keygen [-type rsa|ed25519] [-bits 2048] [-out FILE] DOMAIN SELECTOR\n\n"+
		"Write a new DKIM private key (mode 0600, never overwriting a file) and print the DNS TXT\n"+
		"record to publish at SELECTOR._domainkey.DOMAIN.")
	typ := c.fs.String("type", "rsa", "key type: rsa (understood by every receiver) or ed25519 (RFC 8463)")
	bits := c.fs.Int("bits", 2048, "RSA key size (at least 2048)")
	out := c.fs.String("out", "", "private key file (default SELECTOR.DOMAIN.key)")
	if wantsHelp(args) {
		return c.help(args)
	}
	if args[0] != "keygen" {
		c.printUsage(os.Stderr)
		return usageError("unknown dkim command %q", args[0])
	}
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		c.printUsage(os.Stderr)
		return usageError("dkim keygen takes DOMAIN and SELECTOR")
	}
	domain, selector := pos[0], pos[1]
	if err := dkim.CheckSelector(selector); err != nil {
		return err
	}
	if *out == "" {
		*out = selector + "." + domain + ".key"
	}
	key, pemData, err := dkim.GenerateKey(*typ, *bits)
	if err != nil {
		return err
	}
	rec, err := dkim.RecordValue(key)
	if err != nil {
		return err
	}
	// O_EXCL: an existing key may be published in DNS already.
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if _, err := f.Write(pemData); err != nil {
		f.Close()
		os.Remove(*out)
		return fmt.Errorf("write key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	fmt.Fprintf(os.Stderr, "wrote the private key to %s (mode 0600; make it readable by the sendguard user only)\n"+
		"publish this DNS record, then add to the configuration:\n"+
		"  dkim:\n    domains:\n      %s:\n        selector: %s\n        key_file: %s\n\n", *out, domain, selector, *out)
	fmt.Println(dkim.ZoneRecord(domain, selector, rec))
	return nil
}

// newDKIMSigner loads the configured keys once; nil when none are set.
func newDKIMSigner(cfg *config.Config, log *slog.Logger) (*dkim.Signer, error) {
	if len(cfg.DKIM.Domains) == 0 {
		return nil, nil
	}
	s, err := dkim.New(cfg.DKIM.SignerDomains())
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	log.Info("DKIM signing outgoing mail", "component", "dkim", "domains", s.Domains())
	return s, nil
}

// signingTransport signs each message on its way to the next hop: the
// last step, after every rewrite, for mail and for sendguard's own
// notices and DSNs alike. The signature is computed once per attempt and
// shared by every destination of that attempt.
// The signer is read per attempt from a slot a reload may swap (new keys,
// domains or selectors; nil signs nothing).
type signingTransport struct {
	next   delivery.Transport
	signer *dkimSlot
	log    *slog.Logger
}

// dkimSlot holds the signer in force.
type dkimSlot struct{ atomic.Pointer[dkim.Signer] }

func withDKIM(tr delivery.Transport, s *dkimSlot, log *slog.Logger) delivery.Transport {
	return &signingTransport{next: tr, signer: s, log: log.With("component", "dkim")}
}

func (t *signingTransport) Deliver(ctx context.Context, d *delivery.Delivery) []delivery.Result {
	signer := t.signer.Load()
	if signer == nil {
		return t.next.Deliver(ctx, d)
	}
	body, extra, err := signer.Wrap(d.Body)
	if errors.Is(err, dkim.ErrUnsignable) {
		t.log.Warn("sending unsigned", "queue_id", d.QueueID, "err", err)
		return t.next.Deliver(ctx, d)
	}
	if err != nil {
		// Reading the spooled message failed: try again later rather than
		// send it unsigned.
		t.log.Error("sign message", "queue_id", d.QueueID, "err", err)
		out := make([]delivery.Result, len(d.Rcpts))
		for i, r := range d.Rcpts {
			out[i] = delivery.Result{Rcpt: r.Addr, Temporary: true, Code: 451, Enhanced: "4.3.0", Message: "cannot sign message"}
		}
		return out
	}
	signed := *d
	signed.Body = body
	if signed.Size > 0 {
		signed.Size += extra
	}
	t.log.Debug("signed", "queue_id", d.QueueID, "signed", extra > 0)
	return t.next.Deliver(ctx, &signed)
}
