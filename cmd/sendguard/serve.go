package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sendguard/sendguard/baseline"
	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/gateway/delivery"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/gateway/front"
	"github.com/sendguard/sendguard/gateway/intake"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/internal/webbase"
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

// shutdownGrace bounds how long SIGTERM waits for DATA phases and delivery
// attempts in progress.
const shutdownGrace = 30 * time.Second

func serve(args []string) error {
	c := newCommand("serve", "serve [-config FILE]\n\nRun the gateway; without -config, the embedded demo configuration (loopback only, data in ./data).")
	cfgPath := c.configFlag()
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("serve takes no arguments (did you mean -config %s?)", pos[0])
	}
	// SIGHUP reloads the configuration; registered before anything else,
	// so that one sent while starting cannot kill the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log, level := newLogger(cfg.Log)
	if *cfgPath == "" {
		log.Warn("running on the embedded demo configuration: loopback only, data in " + cfg.DataDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return run(ctx, cfg, log, runOptions{path: *cfgPath, level: level, hup: hup})
}

// runOptions are what run needs besides the configuration to reload it.
type runOptions struct {
	path  string // the configuration file; "" for the embedded one
	level *slog.LevelVar
	hup   <-chan os.Signal // reload requests; nil for none
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Parse("embedded default config", config.DefaultYAML)
	}
	return config.Load(path)
}

// newLogger builds the log/slog logger of log.format; log.level is a
// LevelVar so that a reload can change it.
func newLogger(c config.Log) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	setLevel(level, c.Level)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), level
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts)), level
}

func setLevel(v *slog.LevelVar, name string) {
	var l slog.Level
	l.UnmarshalText([]byte(name))
	v.Set(l)
}

// run wires the pipeline and owns the shutdown order: stop accepting SMTP,
// finish DATA in progress, stop HTTP, stop delivery workers, close the
// store last.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, opt runOptions) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data_dir: %w", err)
	}
	store, err := spool.Open(cfg.DataDir, log.With("component", "spool"))
	if err != nil {
		return err
	}
	defer store.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := gateway.NewMetrics(reg, func() map[string]int {
		counts, _ := store.Counts()
		out := map[string]int{}
		for s, n := range counts {
			out[string(s)] = n
		}
		return out
	})

	// Construction follows the pipeline, each part built once its
	// dependencies exist: delivery, the queue, disposition (notices,
	// rewrites, steps), the SMTP front. Nothing runs before the goroutines
	// start below.
	tr, closeTr, err := newTransport(cfg, log)
	if err != nil {
		return err
	}
	defer closeTr()
	signer, err := newDKIMSigner(cfg, log)
	if err != nil {
		return err
	}
	dkimSigner := &dkimSlot{}
	dkimSigner.Store(signer)
	routes := delivery.ByKind{Mail: withDKIM(tr, dkimSigner, log)}
	if cfg.Notify.Relay != "" {
		ntr, closeN, err := newRelayTransport(cfg, cfg.Notify.Relay, log)
		if err != nil {
			return err
		}
		defer closeN()
		routes.Own = withDKIM(ntr, dkimSigner, log)
	}

	reportStore := &reports.Bolt{DB: store.DB()}
	if err := reportStore.Init(); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	// Transitions that record a step wake the step worker after they
	// commit.
	stepWake := disposition.NewSignal()
	history, err := delivery.NewHistory(store.DB())
	if err != nil {
		return err
	}
	sentStore, err := openSentStore(cfg, store)
	if err != nil {
		return err
	}
	qopts := queue.Options{OnStep: stepWake.Notify, Reports: reportStore, Learner: history,
		Logger: log.With("component", "hold"),
		// The closing message line of a message that ends without delivery
		// (rejected, cancelled, expired, deleted), as delivery logs its own.
		OnFinished: func(rec *spool.Record) {
			gateway.LogMessage(log.With("component", "queue", "queue_id", rec.ID), gateway.RecordFacts(rec, time.Now()))
		}}
	if cfg.Sent.Retention > 0 {
		qopts.Sent = sentStore
	}
	q, err := queue.Open(store, qopts)
	if err != nil {
		return err
	}
	runner := delivery.NewRunner(cfg, store, q, routes, buildDSN(cfg), log, metrics)
	holds := q.Holds

	loc := cfg.Location()
	internal, err := recipients.New(recipients.Config{InternalDomains: cfg.InternalDomains}, nil)
	if err != nil {
		return err
	}
	encryptor, err := newEncryptor(cfg, store, internal.Internal)
	if err != nil {
		return err
	}
	csrfKey, err := loadOrCreateSecret(filepath.Join(cfg.DataDir, "web.key"))
	if err != nil {
		return err
	}
	tokens := &pageTokens{TokenStore: holds} // the shared queue's, with storage.driver postgres
	pages, err := web.New(web.Config{Store: tokens, BaseURL: cfg.Web.BaseURL, Logger: log,
		DefaultLang: defaultLang(cfg), CSRFKey: csrfKey, Location: loc,
		Preview: func(id string) string { return tokens.preview(store, id) }})
	if err != nil {
		return err
	}
	builder, err := notify.NewBuilder(notify.Options{From: noticeFrom(cfg), Location: loc, DefaultLanguage: cfg.DefaultLanguage})
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	notifier := &disposition.Notifier{Store: store, Builder: builder, Link: pages.Link, Lang: cfg.Notify.Language,
		LangOf: languageOf(cfg), Lifetime: cfg.Delivery.QueueLifetime, NewToken: web.NewToken}
	// Senders' behaviour baselines: learned in memory at acceptance,
	// written every few seconds and at shutdown (baseline package doc).
	baselineStore := &baseline.Bolt{DB: store.DB()}
	if err := baselineStore.Init(); err != nil {
		return fmt.Errorf("baselines: %w", err)
	}
	baselines := baseline.NewTracker(baselineStore, loc, 0, log.With("component", "baselines"))
	// The recipient history is this node's until the shared store, opened
	// below, joins it (storage.driver postgres).
	hist := &historySlot{local: history}
	first, err := buildUnit(cfg, hist, store.TempDir())
	if err != nil {
		return err
	}
	linkKey, err := link.LoadOrCreateKey(filepath.Join(cfg.DataDir, link.KeyFile))
	if err != nil {
		return err
	}
	links, err := link.New(store.DB(), filepath.Join(cfg.DataDir, "links"), linkKey,
		link.Options{Audit: holds, Logger: log.With("component", "link")})
	if err != nil {
		return err
	}
	linkSecret, err := loadOrCreateSecret(filepath.Join(cfg.DataDir, "link-web.key"))
	if err != nil {
		return err
	}
	shared, err := openShared(cfg, q, log, stepWake.Notify)
	if err != nil {
		return err
	}
	defer shared.Close()
	if shared != nil {
		tokens.TokenStore, tokens.node = shared.node.Pages(), shared.node
		shared.joinHistory(hist, log)
	}
	shared.register(reg)
	linkPages, err := link.NewHandler(link.Config{Store: links, BaseURL: cfg.Web.BaseURL, From: noticeFrom(cfg),
		Logger: log, Secret: linkSecret, DefaultLang: defaultLang(cfg), Location: loc,
		Mailer: func(ctx context.Context, to string, msg []byte) error {
			// One-time codes travel as notices: spooled like any mail.
			return disposition.QueueNotice(ctx, q, store, []string{to}, msg, "download code", time.Now(), cfg.Delivery.QueueLifetime)
		}})
	if err != nil {
		return err
	}
	sentParts, err := newSent(cfg, store, sentStore, q, holds, links, log)
	if err != nil {
		return err
	}
	if cfg.Sent.Retention > 0 {
		runner.Sent = sentParts.store
		if w := cfg.Sent.ReportWindow; w > 0 {
			slog := log.With("component", "sent")
			runner.OnSent = func(rec *sent.Record) {
				if err := sentParts.kit.SendReceipt(context.Background(), rec, languageOf(cfg)(rec.MailFrom), w); err != nil {
					slog.Error("queue delivery receipt", "queue_id", rec.ID, "err", err)
				}
			}
		}
	}
	linker := &disposition.Linker{Store: store, Links: links, Pages: linkPages, Notices: builder,
		TTL: cfg.Link.ExpireAfter, MaxDownloads: cfg.Link.MaxDownloads, LangOf: firstLanguageOf(cfg), Location: loc,
		Lifetime: cfg.Delivery.QueueLifetime}
	profiles, err := cfg.Profiles()
	if err != nil {
		return err
	}
	rewriter := &disposition.Rewriter{Store: store, Internal: internal.Internal, Encryptor: encryptor, Linker: linker,
		Profiles: profiles}
	steps := &disposition.StepRunner{Queue: q, Store: store, Rewriter: rewriter, Notifier: notifier,
		OnQueued: runner.Wake, Log: log.With("component", "steps"), Wakeup: stepWake}
	live := &liveParts{log: log, reg: reg, dkim: dkimSigner}
	if first.live, err = live.prepare(cfg); err != nil {
		return err
	}
	live.installDirectory(first.live.dir)
	defer live.close()
	// The swap points of a reload: the SMTP server's inspector, both
	// certificates, the console's policy page and test, the log level.
	inspectorOf := func(u *unit) *disposition.PolicyInspector {
		return &disposition.PolicyInspector{Rules: u.rules, Notifier: notifier, Log: log,
			Rewriter: rewriter, Expiry: cfg.Hold.ExpireAfter, ApprovalsRequired: u.cfg.Hold.ApprovalsRequired,
			ResolveApprovers: approverResolver{cfg: u.cfg, dir: u.live.dir.directory(), log: log.With("component", "approvers")}.resolve,
			Directory:        senderDirectory(u.live.dir.directory(), u.cfg), KeepReports: cfg.Reports.Retention > 0,
			Baselines: baselines}
	}
	var current atomic.Pointer[unit]
	current.Store(first)
	smtpCert, webCert := &front.CertSlot{}, &front.CertSlot{}
	smtpCert.Set(first.smtpCert)
	webCert.Set(first.webCert)
	in, err := intake.New(intake.Options{Store: store, Queue: q, Inspector: shared.inspector(inspectorOf(first)),
		Metrics: metrics, OnQueued: shared.onQueued(runner.Wake), Hostname: front.Hostname(cfg),
		NormalizeBareLF: cfg.SMTP.BareLF == "normalize", MaxLineLength: cfg.SMTP.MaxLineLength,
		QueueLifetime: cfg.Delivery.QueueLifetime})
	if err != nil {
		return err
	}
	srv, err := front.NewServer(front.Options{Config: cfg, Log: log, Intake: in, Metrics: metrics, Cert: smtpCert})
	if err != nil {
		return err
	}

	smtpLn, err := net.Listen("tcp", cfg.SMTP.Listen)
	if err != nil {
		return fmt.Errorf("smtp.listen: %w", err)
	}
	webLn, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		smtpLn.Close()
		return fmt.Errorf("web.listen: %w", err)
	}
	adminLn, err := listenUnix(filepath.Join(cfg.DataDir, adminapi.AdminSocket))
	if err != nil {
		smtpLn.Close()
		webLn.Close()
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	if cfg.Delivery.NextHop == "" {
		ob, err := outbox.New(outbox.Config{Dir: filepath.Join(cfg.DataDir, "outbox"), Location: loc,
			DefaultLang: defaultLang(cfg), Logger: log.With("component", "outbox")})
		if err != nil {
			return err
		}
		ob.Register(mux)
	}
	mux.Handle("/h/", pages)
	mux.Handle("/static/", pages)
	testFn := func(ctx context.Context, r io.Reader) (*inspect.Result, error) {
		return current.Load().rules.Inspect(ctx, r, inspect.Envelope{})
	}
	sso, err := consoleSSO(cfg, log)
	if err != nil {
		return err
	}
	live.sso = sso
	cons, err := console.New(console.Config{Hold: holds, Spool: store, DB: store.DB(), BaseURL: cfg.Web.BaseURL,
		Logger: log, Policy: first.policy.Rules(), Test: testFn, InternalDomains: cfg.InternalDomains,
		Location: loc, DefaultLang: cfg.DefaultLanguage, SSO: sso, DisableLocalLogin: !cfg.Console.LocalLogin,
		DataNotes: ownDataNotes(first.rules), LiveNotes: directoryNotes(live.directory), Reports: reportStore, Incidents: sentParts.kit,
		Shared: shared.consoleShared(), Accounts: shared.consoleAccounts()})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	mux.Handle(cons.Prefix(), cons)
	mux.Handle(linkPages.Prefix(), linkPages)
	mux.Handle(sentParts.prefix, sentParts.confirm)
	mux.Handle(sentParts.reportPrefix, sentParts.confirm)
	webSrv := &http.Server{Handler: securityHeaders(mux), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	rl := &reloader{path: opt.path, cur: cfg, log: log.With("component", "reload"),
		build: func(c *config.Config) (*unit, error) {
			u, err := buildUnit(c, hist, store.TempDir())
			if err == nil {
				u.live, err = live.prepare(c)
			}
			return u, err
		},
		apply: func(u *unit) {
			live.install(u.live)
			rewriter.SetProfiles(u.profiles)
			in.SetInspector(shared.inspector(inspectorOf(u)))
			smtpCert.Set(u.smtpCert)
			webCert.Set(u.webCert)
			cons.SetPolicy(u.policy.Rules(), ownDataNotes(u.rules))
			if opt.level != nil {
				setLevel(opt.level, u.cfg.Log.Level)
			}
			current.Store(u)
		},
		audit: func(ctx context.Context, e hold.Event) error { _, err := holds.AppendEvent(ctx, e); return err }}
	adminMux := userRoutes(cons.Users())
	adminMux.Handle("GET /v1/reports", reports.Handler(reportStore))
	adminMux.Handle("GET /v1/policy/baseline", baselineHandler(baselines))
	adminMux.Handle("GET /v1/policy/stats", statsHandler(holds, loc))
	directoryRoutes(adminMux, live.directory)
	adminMux.Handle("/v1/sent", sent.Handler(sentParts.store))
	adminMux.Handle("/v1/sent/", sent.Handler(sentParts.store))
	admin := &adminapi.Admin{Store: store, Queue: shared.adminQueue(q), Shared: shared.adminShared(), Runner: runner, Log: log.With("component", "admin"),
		Users: cons.Users(), Mux: adminMux, Reload: rl.reload}
	adminSrv := &http.Server{Handler: admin.Handler(), ReadHeaderTimeout: 10 * time.Second}

	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	goRun := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	goRun("delivery", func() error { runner.Run(runCtx); close(runnerDone); return nil })
	goRun("spool purge", func() error {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			if n, err := store.Purge(time.Now().Add(-cfg.Delivery.Retention)); err != nil {
				log.Error("purge finished messages", "err", err)
			} else if n > 0 {
				log.Info("purged finished messages", "count", n)
			}
			select {
			case <-runCtx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	goRun("report purge", func() error {
		purgeReports(runCtx, reportStore, holds, cfg.Reports.Retention, 10*time.Minute, log.With("component", "reports"))
		return nil
	})
	goRun("sent purge", func() error {
		purgeSent(runCtx, sentParts.store, holds, cfg.Sent.Retention, 10*time.Minute, log.With("component", "sent"))
		return nil
	})
	goRun("baseline flush", func() error { baselines.Run(runCtx, 5*time.Second); return nil })
	goRun("recorded steps", func() error { steps.Run(runCtx); return nil })
	goRun("link purge", func() error { links.Run(runCtx, 10*time.Minute); return nil })
	goRun("hold timers", func() error {
		err := holds.Run(runCtx, 30*time.Second, cfg.Hold.Retention)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	})
	if shared != nil {
		goRun("shared held queue", func() error { shared.node.Run(runCtx, time.Second); return nil })
		goRun("shared recipient history", func() error { shared.history.Run(runCtx, 5*time.Second); return nil })
	}
	live.run(runCtx)
	if sso != nil {
		goRun("sso discovery", func() error { sso.Run(runCtx); return nil })
	}
	goRun("smtp", func() error { return srv.Serve(smtpLn) })
	goRun("web", serveWeb(webSrv, webLn, cfg, webCert, log))
	goRun("reload on SIGHUP", func() error {
		for {
			select {
			case <-runCtx.Done():
				return nil
			case <-opt.hup:
				rl.reload(runCtx, hold.Actor{Name: "signal (SIGHUP)", Role: "admin"})
			}
		}
	})
	goRun("admin", func() error { return adminSrv.Serve(adminLn) })
	log.Info("sendguard started", "version", version, "smtp", smtpLn.Addr().String(),
		"web", webLn.Addr().String(), "next_hop", nextHopName(cfg), "data_dir", cfg.DataDir)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-errc:
		log.Error("component failed, shutting down", "err", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("smtp shutdown", "err", err)
	}
	webSrv.Shutdown(sctx)
	adminSrv.Shutdown(sctx)
	stopRunner()
	select {
	case <-runnerDone:
	case <-sctx.Done():
		log.Warn("delivery attempts still running at the end of the grace period; aborting them")
		runner.Abort()
	}
	wg.Wait()
	log.Info("stopped")
	return runErr
}

func nextHopName(cfg *config.Config) string {
	if cfg.Delivery.NextHop == "" {
		return "demo outbox"
	}
	return cfg.Delivery.NextHop
}

// listenUnix opens the admin socket with mode 0600, replacing a stale one
// (the bbolt lock already guarantees no other sendguard owns data_dir).
func listenUnix(path string) (net.Listener, error) {
	os.Remove(path)
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return ln, nil
}

// securityHeaders applies the headers every page gets (the outbox,
// metrics and health pages; the other surfaces set their own).
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webbase.SetHeaders(w.Header(), "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.ServeHTTP(w, r)
	})
}

// consoleSSO builds the console's OpenID Connect client from console.oidc,
// or nil when single sign-on is not configured.
func consoleSSO(cfg *config.Config, log *slog.Logger) (*console.SSO, error) {
	o := cfg.Console.OIDC
	if !o.Enabled() {
		return nil, nil
	}
	secret, err := o.ClientSecret()
	if err != nil {
		return nil, fmt.Errorf("console.oidc.client_secret_file: %w", err)
	}
	return console.NewSSO(console.SSOConfig{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: secret,
		RedirectURL: o.RedirectURL, Scopes: o.Scopes, UsernameClaim: o.UsernameClaim, GroupsClaim: o.GroupsClaim,
		Roles: o.Roles, Logger: log})
}
