package main

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/gateway/delivery"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/gateway/dsn"
	"github.com/sendguard/sendguard/gateway/front"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/templates"
)

// newTransport picks the delivery transport: the demo outbox when no next
// hop is configured, else SMTP to the next hop.
func newTransport(cfg *config.Config, log *slog.Logger) (delivery.Transport, func(), error) {
	if cfg.Delivery.NextHop == "" {
		return &delivery.Outbox{Dir: filepath.Join(cfg.DataDir, "outbox")}, func() {}, nil
	}
	return newSMTPTransport(cfg, log)
}

// buildDSN renders RFC 3464 reports for the delivery runner.
func buildDSN(cfg *config.Config) delivery.DSNBuilder {
	host := front.Hostname(cfg)
	return func(rec *spool.Record, rcpts []spool.Rcpt, body io.Reader) ([]byte, error) {
		p := dsn.Params{ReportingMTA: host, To: rec.MailFrom, QueueID: rec.ID, EnvID: rec.DSNEnvID,
			ArrivalDate: rec.ReceivedAt, Original: body, Return: rec.DSNRet,
			Language: cfg.DefaultLanguage, Location: cfg.Location()}
		for _, rc := range rcpts {
			r := dsn.Recipient{Final: rc.Addr, Action: dsn.Failed, Status: rc.Enhanced, RemoteMTA: rc.Remote,
				LastAttempt: rc.Updated}
			if _, orig, ok := strings.Cut(rc.ORcpt, ";"); ok {
				r.Original = orig
			}
			switch {
			case rc.Status == spool.RcptPending: // still being retried
				r.Action, r.WillRetryUntil = dsn.Delayed, rec.Expires
				if r.Status == "" || r.Status[0] != '4' {
					r.Status = "4.0.0"
				}
			case r.Status == "" || r.Status[0] != '5' && r.Status[0] != '4':
				r.Status = "5.0.0"
			case r.Status[0] == '4': // expired after temporary failures
				r.Status = "5" + r.Status[1:]
			}
			if rc.FromPeer {
				r.Diagnostic = fmt.Sprintf("%d %s %s", rc.Code, rc.Enhanced, rc.Message)
			} else {
				r.Reason = rc.Message
			}
			p.Recipients = append(p.Recipients, r)
		}
		return dsn.Build(p)
	}
}

// noticeFrom is the From address of notices.
func noticeFrom(cfg *config.Config) string {
	if cfg.Notify.From != "" {
		return cfg.Notify.From
	}
	dom := "localhost"
	for _, d := range cfg.InternalDomains {
		if !strings.HasPrefix(d, "*.") {
			dom = d
			break
		}
	}
	return "sendguard <sendguard@" + dom + ">"
}

// defaultLang is the pages' language when the reader names none:
// notify.language when it fixes one, else default_language.
func defaultLang(cfg *config.Config) string {
	return cmp.Or(cfg.Notify.Language, cfg.DefaultLanguage, templates.DefaultLanguage)
}

// firstLanguageOf is languageOf for texts that are always bilingual (the
// download-link notes): the language that comes first.
func firstLanguageOf(cfg *config.Config) func(addr string) string {
	of := languageOf(cfg)
	return func(addr string) string { return cmp.Or(of(addr), defaultLang(cfg)) }
}

// languageOf picks a notice's language by address, then @domain, then
// notify.language.
func languageOf(cfg *config.Config) func(addr string) string {
	m := cfg.Notify.Languages
	return func(addr string) string {
		a := strings.ToLower(addr)
		if l, ok := m[a]; ok {
			return l
		}
		if _, dom, ok := strings.Cut(a, "@"); ok {
			if l, ok := m["@"+dom]; ok {
				return l
			}
		}
		return cfg.Notify.Language
	}
}

func newEncryptor(cfg *config.Config, store *spool.Store, internal func(string) bool) (*disposition.Encryptor, error) {
	notices, err := notify.NewBuilder(notify.Options{From: noticeFrom(cfg), Location: cfg.Location(), DefaultLanguage: cfg.DefaultLanguage})
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	e := &disposition.Encryptor{Store: store, Notices: notices, LangOf: languageOf(cfg), PasswordLength: cfg.Encrypt.PasswordLength,
		RecipientDelay: cfg.Encrypt.RecipientDelay, Internal: internal, Lifetime: cfg.Delivery.QueueLifetime}
	if cfg.Encrypt.ZipCrypto {
		e.Zip.Encryption = aeszip.ZipCrypto
	}
	if cfg.Encrypt.CP932Names {
		e.Zip.Names = aeszip.CP932
	}
	if cfg.Encrypt.PresetPasswordsFile != "" {
		p, err := config.LoadPresets(cfg.Encrypt.PresetPasswordsFile)
		if err != nil {
			return nil, err
		}
		e.Presets = p
	}
	return e, nil
}

// loadOrCreateSecret reads a 32-byte key from path, creating it (0600) on
// first start, so signed forms and sessions survive a restart.
func loadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return b, nil
}
