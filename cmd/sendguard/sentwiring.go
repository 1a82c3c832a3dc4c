package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/internal/webbase"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/rules/recipients"
	"github.com/sendguard/sendguard/sent"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/templates"
)

// sentParts are the sent-mail record and the incident kit, wired.
type sentParts struct {
	store   *sent.Store
	kit     *sent.Kit
	confirm http.Handler // recipients' confirm pages
	prefix  string       // where confirm is mounted
	// reportPrefix is where the senders' report pages are
	reportPrefix string
}

// newSent builds the sent-mail record and the incident kit. With
// sent.retention 0 nothing is recorded, and the kit finds nothing.
func newSent(cfg *config.Config, store *spool.Store, st *sent.Store, q disposition.Acceptor, holds *hold.Store, links link.Storage, log *slog.Logger) (*sentParts, error) {
	base, err := webbase.ParseBase(cfg.Web.BaseURL)
	if err != nil {
		return nil, err
	}
	cat, err := templates.LoadCatalog()
	if err != nil {
		return nil, err
	}
	internal, err := recipients.New(recipients.Config{InternalDomains: cfg.InternalDomains}, nil)
	if err != nil {
		return nil, err
	}
	kit := &sent.Kit{Store: st, Links: links, Audit: holds, Catalog: cat, From: noticeFrom(cfg),
		BaseURL: base.Origin + base.Path, ConfirmTTL: cfg.Sent.ConfirmExpireAfter, Location: cfg.Location(),
		Internal: internal.Internal, Log: log.With("component", "sent"),
		Mail: func(ctx context.Context, to string, msg []byte) error {
			// Deletion requests go out as mail of their own, queued like
			// notices; the kit addresses original recipients only.
			return disposition.QueueNotice(ctx, q, store, []string{to}, msg, "deletion request", time.Now(), cfg.Delivery.QueueLifetime)
		}}
	return &sentParts{store: st, kit: kit, confirm: kit.ConfirmHandler(base.Path), prefix: base.Path + sent.ConfirmPrefix,
		reportPrefix: base.Path + sent.ReportPrefix}, nil
}

// openSentStore opens the sent-mail records on the spool's database; the
// queue keeps a delivered mail's record with its attempt's result.
func openSentStore(cfg *config.Config, store *spool.Store) (*sent.Store, error) {
	st := &sent.Store{DB: store.DB(), Retention: cfg.Sent.Retention}
	if cfg.Sent.KeepBody {
		key, err := link.LoadOrCreateKey(filepath.Join(cfg.DataDir, "sent.key"))
		if err != nil {
			return nil, fmt.Errorf("sent.keep_body: %w", err)
		}
		st.BodyDir, st.Key = filepath.Join(cfg.DataDir, "sent"), key
	}
	if err := st.Init(); err != nil {
		return nil, fmt.Errorf("sent: %w", err)
	}
	return st, nil
}

// purgeSent deletes sent records older than the retention every tick,
// with an audit event for each purge that deleted any.
func purgeSent(ctx context.Context, st *sent.Store, audit *hold.Store, retention, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		cutoff := time.Now().Add(-retention)
		n, err := st.Purge(ctx, cutoff)
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("purge sent records", "err", err)
		}
		if n > 0 {
			log.Info("purged sent records", "count", n)
			if _, err := audit.AppendEvent(context.WithoutCancel(ctx), hold.Event{Actor: hold.System, Action: "sent_purged",
				Reason: fmt.Sprintf("%d sent-mail records delivered before %s (sent.retention)", n, cutoff.UTC().Format(time.RFC3339))}); err != nil {
				log.Error("audit sent purge", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
