package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/internal/webbase"
	"github.com/sendguard/sendguard/web/console"
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
	setProcs(os.Getenv)
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

// run builds the node's stages in pipeline order, each complete when it is
// handed to the next (build.go), then serves until ctx ends.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, opt runOptions) error {
	n := &node{cfg: cfg, log: log, opt: opt, loc: cfg.Location()}
	defer n.close()
	for _, build := range []func() error{
		n.openSpool,        // the spool and the metrics that count it
		n.buildOutbound,    // transports to the next hop, DKIM
		n.loadKeys,         // keys every node of a cluster shares
		n.buildQueue,       // the owner of messages' state, with its stores
		n.joinCluster,      // storage.driver postgres: the shared held queue
		n.buildPages,       // links, notices and the pages they point to
		n.buildSent,        // the sent-mail record and incident kit
		n.buildDelivery,    // the delivery runner
		n.buildDisposition, // rewrites and the recorded-step worker
		n.buildUnit,        // the reloadable unit: rules, certificates, directory
		n.buildIntake,      // spool → inspect → decide → persist
		n.buildFront,       // SMTP
		n.buildWeb,         // pages, console, metrics
		n.buildAdmin,       // the admin socket and reload
	} {
		if err := build(); err != nil {
			return err
		}
	}
	return n.serve(ctx)
}

// serve opens the listeners, starts every component and owns the shutdown
// order: stop accepting SMTP, finish DATA in progress, stop HTTP, stop
// delivery workers; the store closes last (close).
func (n *node) serve(ctx context.Context) error {
	cfg, log := n.cfg, n.log
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
	store, holds, runner, shared := n.store, n.q.Holds, n.runner, n.shared
	goRun("delivery", func() error { runner.Run(runCtx); close(runnerDone); return nil })
	goRun("spool purge", func() error {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			if count, err := store.Purge(time.Now().Add(-cfg.Delivery.Retention)); err != nil {
				log.Error("purge finished messages", "err", err)
			} else if count > 0 {
				log.Info("purged finished messages", "count", count)
			}
			select {
			case <-runCtx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	goRun("report purge", func() error {
		purgeReports(runCtx, n.shared.reportPurge(n.reports), n.shared.audit(holds), cfg.Reports.Retention, 10*time.Minute, log.With("component", "reports"))
		return nil
	})
	goRun("sent purge", func() error {
		purgeSent(runCtx, n.sent.store, holds, cfg.Sent.Retention, 10*time.Minute, log.With("component", "sent"))
		return nil
	})
	goRun("baseline flush", func() error { n.baselines.Run(runCtx, 5*time.Second); return nil })
	goRun("recorded steps", func() error { n.steps.Run(runCtx); return nil })
	goRun("link purge", func() error { n.links.Run(runCtx, 10*time.Minute); return nil })
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
		goRun("shared reports", func() error { shared.shipReports(runCtx, n.reports, 5*time.Second, log); return nil })
	}
	n.live.run(runCtx)
	if sso := n.sso; sso != nil {
		goRun("sso discovery", func() error { sso.Run(runCtx); return nil })
	}
	goRun("smtp", func() error { return n.smtp.Serve(smtpLn) })
	goRun("web", serveWeb(n.webSrv, webLn, cfg, n.webCert, log))
	goRun("reload on SIGHUP", func() error {
		for {
			select {
			case <-runCtx.Done():
				return nil
			case <-n.opt.hup:
				n.reloader.reload(runCtx, hold.Actor{Name: "signal (SIGHUP)", Role: "admin"})
			}
		}
	})
	goRun("admin", func() error { return n.adminSrv.Serve(adminLn) })
	log.Info("sendguard started", "version", version, "smtp", smtpLn.Addr().String(),
		"web", webLn.Addr().String(), "next_hop", nextHopName(cfg), "data_dir", cfg.DataDir,
		"gomaxprocs", runtime.GOMAXPROCS(0))

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-errc:
		log.Error("component failed, shutting down", "err", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := n.smtp.Shutdown(sctx); err != nil {
		log.Warn("smtp shutdown", "err", err)
	}
	n.webSrv.Shutdown(sctx)
	n.adminSrv.Shutdown(sctx)
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
