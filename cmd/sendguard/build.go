package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sendguard/sendguard/baseline"
	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/gateway/delivery"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/gateway/front"
	"github.com/sendguard/sendguard/gateway/intake"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/recipients"
	"github.com/sendguard/sendguard/sent"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/web"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/outbox"
)

// node is one sendguard process being composed: run calls the build
// methods below in pipeline order, each of which builds its stage complete
// from what the earlier ones built, through the stage's constructor or
// options, and records it here. Nothing is changed on a component once it
// has been handed to another; what a reload replaces is swapped through
// the components' own atomic setters (apply).
type node struct {
	cfg     *config.Config
	log     *slog.Logger
	opt     runOptions
	loc     *time.Location
	closers []func() // run in reverse order by close

	store   *spool.Store
	reg     *prometheus.Registry
	metrics *gateway.Metrics

	dkim   *dkimSlot
	routes delivery.ByKind

	csrfKey, linkSecret []byte
	linkKey             *atrest.MasterKey

	reports   *reports.Bolt
	stepWake  disposition.Signal
	deferral  *disposition.Deferral
	history   *delivery.History
	sentStore *sent.Store
	q         *queue.Queue

	shared *sharedStore // nil with bbolt
	hist   *historySlot

	links     link.Storage // this node's, or the cluster's with storage.driver postgres
	tokens    *pageTokens
	pages     *web.Handler
	builder   *notify.Builder
	notifier  *disposition.Notifier
	linkPages *link.Handler
	sent      *sentParts

	runner    *delivery.Runner
	rewriter  *disposition.Rewriter
	steps     *disposition.StepRunner
	baselines *baseline.Tracker

	sso               *console.SSO // nil: single sign-on is off
	live              *liveParts
	current           atomic.Pointer[unit]
	smtpCert, webCert *front.CertSlot

	intake *intake.Stage
	smtp   *front.Server

	cons     *console.Handler
	webSrv   *http.Server
	reloader *reloader
	adminSrv *http.Server
}

// onClose registers what close undoes, last registered first.
func (n *node) onClose(fn func()) { n.closers = append(n.closers, fn) }

func (n *node) close() {
	for i := len(n.closers) - 1; i >= 0; i-- {
		n.closers[i]()
	}
}

func (n *node) openSpool() error {
	cfg, log := n.cfg, n.log
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data_dir: %w", err)
	}
	store, err := spool.Open(cfg.DataDir, log.With("component", "spool"))
	if err != nil {
		return err
	}
	store.SyncEachFile = cfg.Storage.SyncEachFile()
	n.onClose(func() { store.Close() })
	n.store = store

	n.reg = prometheus.NewRegistry()
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.metrics = gateway.NewMetrics(n.reg, func() map[string]int {
		counts, _ := store.Counts()
		out := map[string]int{}
		for s, n := range counts {
			out[string(s)] = n
		}
		return out
	})
	return nil
}

// buildOutbound builds the transports: to the next hop, and notify.relay
// for sendguard's own mail; both sign with the reloadable DKIM signer.
func (n *node) buildOutbound() error {
	cfg, log := n.cfg, n.log
	tr, closeTr, err := newTransport(cfg, log)
	if err != nil {
		return err
	}
	n.onClose(closeTr)
	signer, err := newDKIMSigner(cfg, log)
	if err != nil {
		return err
	}
	n.dkim = &dkimSlot{}
	n.dkim.Store(signer)
	routes := delivery.ByKind{Mail: withDKIM(tr, n.dkim, log)}
	if cfg.Notify.Relay != "" {
		ntr, closeN, err := newRelayTransport(cfg, cfg.Notify.Relay, log)
		if err != nil {
			return err
		}
		n.onClose(closeN)
		routes.Own = withDKIM(ntr, n.dkim, log)
	}
	n.routes = routes
	return nil
}

// loadKeys reads (or creates on first start) the keys of pages and
// download links; a cluster checks that every node reads the same.
func (n *node) loadKeys() error {
	dir := n.cfg.DataDir
	var err error
	if n.csrfKey, err = loadOrCreateSecret(filepath.Join(dir, "web.key")); err != nil {
		return err
	}
	if n.linkKey, err = link.LoadOrCreateKey(filepath.Join(dir, link.KeyFile)); err != nil {
		return err
	}
	n.linkSecret, err = loadOrCreateSecret(filepath.Join(dir, "link-web.key"))
	return err
}

// buildQueue opens the queue, the one owner of messages' state, with the
// stores its transactions write: reports, recipient history, sent mail.
func (n *node) buildQueue() error {
	cfg, log, store := n.cfg, n.log, n.store
	n.reports = &reports.Bolt{DB: store.DB()}
	if err := n.reports.Init(); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	// Transitions that record a step wake the step worker after they
	// commit.
	n.stepWake = disposition.NewSignal()
	var err error
	if n.history, err = delivery.NewHistory(store.DB()); err != nil {
		return err
	}
	if n.sentStore, err = openSentStore(cfg, store); err != nil {
		return err
	}
	var sentRecords *sent.Store
	if cfg.Sent.Retention > 0 {
		sentRecords = n.sentStore
	}
	n.q, err = queue.Open(store, queue.Options{OnStep: n.stepWake.Notify, Reports: n.reports, Learner: n.history,
		Logger: log.With("component", "hold"), Sent: sentRecords,
		// The closing message line of a message that ends without delivery
		// (rejected, cancelled, expired, deleted), as delivery logs its own.
		OnFinished: func(rec *spool.Record) {
			gateway.LogMessage(log.With("component", "queue", "queue_id", rec.ID), gateway.RecordFacts(rec, time.Now()))
		}})
	return err
}

// joinCluster opens the shared store (storage.driver postgres; nothing
// with bbolt) and the recipient history the analysis asks.
func (n *node) joinCluster() error {
	shared, err := openShared(n.cfg, n.q, n.log, n.stepWake.Notify, n.history)
	if err != nil {
		return err
	}
	n.onClose(shared.Close)
	shared.register(n.reg)
	n.shared, n.hist = shared, shared.recipientHistory(n.history)
	return nil
}

// buildPages builds download links, the notice writer and the pages
// notices point to (confirm/approve, download).
func (n *node) buildPages() error {
	cfg, log, store, q := n.cfg, n.log, n.store, n.q
	localLinks, err := link.New(store.DB(), filepath.Join(cfg.DataDir, "links"), n.linkKey,
		link.Options{Audit: q.Holds, Logger: log.With("component", "link")})
	if err != nil {
		return err
	}
	if n.links, err = n.shared.links(localLinks, n.linkKey, log); err != nil {
		return err
	}
	tokens := n.shared.pageTokens(q.Holds)
	if n.pages, err = web.New(web.Config{Store: tokens, BaseURL: cfg.Web.BaseURL, Logger: log,
		DefaultLang: defaultLang(cfg), CSRFKey: n.csrfKey, Location: n.loc,
		Preview: func(id string) string { return tokens.preview(store, id) }}); err != nil {
		return err
	}
	n.tokens = tokens
	if n.builder, err = notify.NewBuilder(notify.Options{From: noticeFrom(cfg), Location: n.loc, DefaultLanguage: cfg.DefaultLanguage}); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	n.notifier = &disposition.Notifier{Store: store, Builder: n.builder, Link: n.pages.Link, Lang: cfg.Notify.Language,
		LangOf: languageOf(cfg), Lifetime: cfg.Delivery.QueueLifetime, NewToken: web.NewToken}
	n.linkPages, err = link.NewHandler(link.Config{Store: n.links, BaseURL: cfg.Web.BaseURL, From: noticeFrom(cfg),
		Logger: log, Secret: n.linkSecret, DefaultLang: defaultLang(cfg), Location: n.loc,
		Mailer: func(ctx context.Context, to string, msg []byte) error {
			// One-time codes travel as notices: spooled like any mail.
			return disposition.QueueNotice(ctx, q, store, []string{to}, msg, "download code", time.Now(), cfg.Delivery.QueueLifetime)
		}})
	return err
}

func (n *node) buildSent() error {
	var err error
	n.sent, err = newSent(n.cfg, n.store, n.sentStore, n.q, n.q.Holds, n.links, n.log)
	return err
}

// buildDelivery builds the delivery runner; with sent.retention it
// records delivered mail, and with sent.report_window it queues the
// sender's receipt.
func (n *node) buildDelivery() error {
	cfg, log := n.cfg, n.log
	o := delivery.Options{Config: cfg, Store: n.store, Queue: n.q, Transport: n.routes, DSN: buildDSN(cfg),
		Log: log, Metrics: n.metrics}
	if cfg.Sent.Retention > 0 {
		o.Sent = n.sent.store
		if w := cfg.Sent.ReportWindow; w > 0 {
			slog, kit := log.With("component", "sent"), n.sent.kit
			o.OnSent = func(rec *sent.Record) {
				if err := kit.SendReceipt(context.Background(), rec, languageOf(cfg)(rec.MailFrom), w); err != nil {
					slog.Error("queue delivery receipt", "queue_id", rec.ID, "err", err)
				}
			}
		}
	}
	n.runner = delivery.New(o)
	return nil
}

// buildDisposition builds the rewrites (Bcc → link → encrypt) and the
// worker that runs recorded steps, and the senders' baselines the
// decision consults.
func (n *node) buildDisposition() error {
	cfg, log, store := n.cfg, n.log, n.store
	internal, err := recipients.New(recipients.Config{InternalDomains: cfg.InternalDomains}, nil)
	if err != nil {
		return err
	}
	encryptor, err := newEncryptor(cfg, store, internal.Internal)
	if err != nil {
		return err
	}
	linker := &disposition.Linker{Store: store, Links: n.links, Pages: n.linkPages, Notices: n.builder,
		TTL: cfg.Link.ExpireAfter, MaxDownloads: cfg.Link.MaxDownloads, LangOf: firstLanguageOf(cfg), Location: n.loc,
		Lifetime: cfg.Delivery.QueueLifetime}
	profiles, err := cfg.Profiles()
	if err != nil {
		return err
	}
	n.rewriter = &disposition.Rewriter{Store: store, Internal: internal.Internal, Encryptor: encryptor, Linker: linker,
		Profiles: profiles}
	// A held message's wake-up also moves it to the shared held queue
	// (storage.driver postgres): a deferred rewrite that fails holds it.
	n.steps = &disposition.StepRunner{Queue: n.q, Store: store, Rewriter: n.rewriter, Notifier: n.notifier,
		OnQueued: n.shared.onQueued(n.runner.Wake), Log: log.With("component", "steps"), Wakeup: n.stepWake,
		HoldExpiry: cfg.Hold.ExpireAfter, Counted: func(actions []string) {
			for _, a := range actions {
				n.metrics.Actions.WithLabelValues(a).Inc()
			}
		}}
	// Shutdown cuts the deferred rewrites short before the store closes:
	// each runs again after the restart.
	deferCtx, stopDefer := context.WithCancel(context.Background())
	n.deferral = disposition.NewDeferral(deferCtx, n.steps, disposition.DeferMinSize, max(2, runtime.GOMAXPROCS(0)))
	n.onClose(func() { stopDefer(); n.deferral.Wait() })
	// Senders' behaviour baselines: learned in memory at acceptance,
	// written every few seconds and at shutdown (baseline package doc).
	baselineStore := &baseline.Bolt{DB: store.DB()}
	if err := baselineStore.Init(); err != nil {
		return fmt.Errorf("baselines: %w", err)
	}
	n.baselines = baseline.NewTracker(baselineStore, n.loc, 0, log.With("component", "baselines"))
	n.baselines = n.shared.baselines(n.baselines, n.loc, log) // storage.driver postgres: every node's
	return nil
}

// buildUnit builds the first reloadable unit and the live parts it runs
// with (directory, DKIM signer, SSO mapping), and the certificate slots.
func (n *node) buildUnit() error {
	var err error
	if n.sso, err = consoleSSO(n.cfg, n.log); err != nil {
		return err
	}
	n.live = &liveParts{log: n.log, reg: n.reg, dkim: n.dkim, sso: n.sso}
	first, err := n.unitOf(n.cfg)
	if err != nil {
		return err
	}
	n.log.Info("PDF extraction worker", "program", extractionWorker(n.cfg.Extraction))
	n.live.installDirectory(first.live.dir)
	n.onClose(n.live.close)
	n.current.Store(first)
	n.smtpCert, n.webCert = &front.CertSlot{}, &front.CertSlot{}
	n.smtpCert.Set(first.smtpCert)
	n.webCert.Set(first.webCert)
	return nil
}

// unitOf builds the unit of cfg, at start and on every reload.
func (n *node) unitOf(cfg *config.Config) (*unit, error) {
	u, err := buildUnit(cfg, n.hist, n.store.TempDir())
	if err == nil {
		u.live, err = n.live.prepare(cfg)
	}
	return u, err
}

// inspectorOf is the intake's inspector for a unit.
func (n *node) inspectorOf(u *unit) intake.Inspector {
	cfg, log := n.cfg, n.log
	return n.shared.inspector(&disposition.PolicyInspector{Rules: u.rules, Notifier: n.notifier, Log: log,
		Rewriter: n.rewriter, Expiry: cfg.Hold.ExpireAfter, ApprovalsRequired: u.cfg.Hold.ApprovalsRequired,
		ResolveApprovers: approverResolver{cfg: u.cfg, dir: u.live.dir.directory(), log: log.With("component", "approvers")}.resolve,
		Directory:        senderDirectory(u.live.dir.directory(), u.cfg), KeepReports: cfg.Reports.Retention > 0,
		Baselines: n.baselines, Deferral: n.deferral})
}

func (n *node) buildIntake() error {
	cfg := n.cfg
	var err error
	n.intake, err = intake.New(intake.Options{Store: n.store, Queue: n.q, Inspector: n.inspectorOf(n.current.Load()),
		Metrics: n.metrics, OnQueued: n.shared.onQueued(n.runner.Wake), Hostname: front.Hostname(cfg),
		NormalizeBareLF: cfg.SMTP.BareLF == "normalize", MaxLineLength: cfg.SMTP.MaxLineLength,
		QueueLifetime: cfg.Delivery.QueueLifetime})
	return err
}

func (n *node) buildFront() error {
	var err error
	n.smtp, err = front.NewServer(front.Options{Config: n.cfg, Log: n.log, Intake: n.intake, Metrics: n.metrics, Cert: n.smtpCert})
	return err
}

// buildWeb builds the web listener's handler: metrics, health, the demo
// outbox, the sender and approver pages, the console, download and
// confirm pages.
func (n *node) buildWeb() error {
	cfg, log := n.cfg, n.log
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	if cfg.Delivery.NextHop == "" {
		ob, err := outbox.New(outbox.Config{Dir: filepath.Join(cfg.DataDir, "outbox"), Location: n.loc,
			DefaultLang: defaultLang(cfg), Logger: log.With("component", "outbox")})
		if err != nil {
			return err
		}
		ob.Register(mux)
	}
	mux.Handle("/h/", n.pages)
	mux.Handle("/static/", n.pages)
	testFn := func(ctx context.Context, r io.Reader) (*inspect.Result, error) {
		return n.current.Load().rules.Inspect(ctx, r, inspect.Envelope{})
	}
	first := n.current.Load()
	cons, err := console.New(console.Config{Hold: n.q.Holds, Spool: n.store, DB: n.store.DB(), BaseURL: cfg.Web.BaseURL,
		Logger: log, Policy: first.policy.Rules(), Test: testFn, InternalDomains: cfg.InternalDomains,
		Location: n.loc, DefaultLang: cfg.DefaultLanguage, SSO: n.sso, DisableLocalLogin: !cfg.Console.LocalLogin,
		DataNotes: ownDataNotes(first.rules), LiveNotes: directoryNotes(n.live.directory), Reports: n.shared.reports(n.reports), Incidents: n.sent.kit,
		Shared: n.shared.consoleShared(), Accounts: n.shared.consoleAccounts(), SignIns: n.shared.consoleSignIns(), Audit: n.shared.audit(n.q.Holds)})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	n.cons = cons
	mux.Handle(cons.Prefix(), cons)
	mux.Handle(n.linkPages.Prefix(), n.linkPages)
	mux.Handle(n.sent.prefix, n.sent.confirm)
	mux.Handle(n.sent.reportPrefix, n.sent.confirm)
	n.webSrv = &http.Server{Handler: securityHeaders(mux), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	return nil
}

// buildAdmin builds the reloader and the admin socket's API.
func (n *node) buildAdmin() error {
	cfg, log, holds := n.cfg, n.log, n.q.Holds
	n.reloader = &reloader{path: n.opt.path, cur: cfg, log: log.With("component", "reload"),
		build: n.unitOf, apply: n.apply,
		audit: func(ctx context.Context, e hold.Event) error { _, err := holds.AppendEvent(ctx, e); return err }}
	adminMux := userRoutes(n.cons.Users())
	adminMux.Handle("GET /v1/reports", reports.Handler(n.shared.reports(n.reports)))
	adminMux.Handle("GET /v1/policy/baseline", baselineHandler(n.baselines))
	adminMux.Handle("GET /v1/policy/stats", statsHandler(n.shared.audit(holds), n.loc))
	directoryRoutes(adminMux, n.live.directory)
	adminMux.Handle("/v1/sent", sent.Handler(n.sent.store))
	adminMux.Handle("/v1/sent/", sent.Handler(n.sent.store))
	admin := &adminapi.Admin{Store: n.store, Queue: n.shared.adminQueue(n.q), Shared: n.shared.adminShared(), Runner: n.runner,
		Log: log.With("component", "admin"), Users: n.cons.Users(), Mux: adminMux, Reload: n.reloader.reload}
	n.adminSrv = &http.Server{Handler: admin.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// apply puts a reloaded unit in force at the swap points: the directory,
// DKIM and SSO mapping, the rewrite profiles, the intake's inspector, both
// certificates, the console's policy page and test, the log level.
func (n *node) apply(u *unit) {
	n.live.install(u.live)
	n.rewriter.SetProfiles(u.profiles)
	n.intake.SetInspector(n.inspectorOf(u))
	n.smtpCert.Set(u.smtpCert)
	n.webCert.Set(u.webCert)
	n.cons.SetPolicy(u.policy.Rules(), ownDataNotes(u.rules))
	if n.opt.level != nil {
		setLevel(n.opt.level, u.cfg.Log.Level)
	}
	n.current.Store(u)
}
