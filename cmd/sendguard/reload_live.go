package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/crypto/dkim"
	"github.com/sendguard/sendguard/directory"
	"github.com/sendguard/sendguard/web/console"
)

// liveParts are the long-lived pieces a reload replaces besides the
// inspection unit: the company directory (its connections, cache and
// prober), the DKIM signer and the console's single sign-on mapping.
// Each is built in prepare, before anything running changes, so a bad
// key file or directory setting refuses the whole reload; install then
// swaps them in.
type liveParts struct {
	log  *slog.Logger
	reg  *prometheus.Registry
	dkim *dkimSlot
	sso  *console.SSO // nil: single sign-on is off (turning it on needs a restart)

	dir     atomic.Pointer[dirState]
	mu      sync.Mutex
	runCtx  context.Context // probers run under it once serving starts
	gauge   bool
	running *dirState // the state whose prober runs
}

// dirState is one directory configuration with what it opened.
type dirState struct {
	cfg  config.Directory
	pw   [32]byte // SHA-256 of the bind password: a rotated password reconnects
	dir  *directory.Directory
	src  *directory.LDAP
	stop context.CancelFunc
}

// directory is the state's directory (nil for no state).
func (st *dirState) directory() *directory.Directory {
	if st == nil {
		return nil
	}
	return st.dir
}

// directory is the directory in force (nil without one).
func (l *liveParts) directory() *directory.Directory {
	if st := l.dir.Load(); st != nil {
		return st.dir
	}
	return nil
}

// prepareDirectory builds the directory of cfg, or keeps the running one
// when neither its settings nor its bind password changed (so a policy
// reload keeps the warm cache).
func (l *liveParts) prepareDirectory(cfg *config.Config) (*dirState, error) {
	if !cfg.Directory.Enabled() {
		return nil, nil
	}
	pw, err := cfg.Directory.LDAP.ReadPassword()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(pw))
	if cur := l.dir.Load(); cur != nil && cur.pw == sum && reflect.DeepEqual(cur.cfg, cfg.Directory) {
		return cur, nil
	}
	dir, src, err := newDirectory(cfg, l.log)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return &dirState{cfg: cfg.Directory, pw: sum, dir: dir, src: src}, nil
}

// installDirectory puts st in force: its prober starts (once serving has
// started), the previous one's stops and its connections close.
func (l *liveParts) installDirectory(st *dirState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.dir.Swap(st)
	if old == st {
		return
	}
	if st != nil {
		l.log.Info("company directory in force", "component", "directory", "url", st.cfg.LDAP.URL)
		if !l.gauge && l.reg != nil {
			l.gauge = true
			l.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sendguard_directory_up",
				Help: "1 while the company directory answers, 0 while cached answers and hold.approvers stand in (or none is configured)."},
				func() float64 {
					if d := l.directory(); d != nil && d.Status().Up {
						return 1
					}
					return 0
				}))
		}
	} else if old != nil {
		l.log.Info("company directory turned off", "component", "directory")
	}
	l.startLocked(st)
	if old != nil {
		if old.stop != nil {
			old.stop()
		}
		old.src.Close()
	}
}

// run starts the prober of the directory in force under ctx; later
// installs start theirs under the same context.
func (l *liveParts) run(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runCtx = ctx
	l.startLocked(l.dir.Load())
}

func (l *liveParts) startLocked(st *dirState) {
	if l.runCtx == nil || st == nil || st == l.running {
		return
	}
	ctx, stop := context.WithCancel(l.runCtx)
	st.stop = stop
	l.running = st
	go st.dir.Run(ctx)
}

// close stops the prober and closes the directory's connections.
func (l *liveParts) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.dir.Load(); st != nil {
		if st.stop != nil {
			st.stop()
		}
		st.src.Close()
	}
}

// liveUnit is what prepare built for one reload.
type liveUnit struct {
	dir  *dirState
	dkim *dkim.Signer
	sso  *console.SSOMapping // nil: unchanged (no single sign-on)
}

// prepare builds every live part of cfg; an error refuses the reload.
func (l *liveParts) prepare(cfg *config.Config) (*liveUnit, error) {
	var lu liveUnit
	var err error
	if lu.dir, err = l.prepareDirectory(cfg); err != nil {
		return nil, err
	}
	if lu.dkim, err = newDKIMSigner(cfg, l.log); err != nil {
		return nil, err
	}
	if l.sso != nil && cfg.Console.OIDC.Enabled() {
		o := cfg.Console.OIDC
		m := console.SSOMapping{UsernameClaim: o.UsernameClaim, GroupsClaim: o.GroupsClaim, Roles: o.Roles}
		// Checked now so a bad mapping refuses the reload.
		if err := console.CheckSSOMapping(m); err != nil {
			return nil, fmt.Errorf("console.oidc.roles: %w", err)
		}
		lu.sso = &m
	}
	return &lu, nil
}

// install puts a prepared unit in force.
func (l *liveParts) install(lu *liveUnit) {
	l.installDirectory(lu.dir)
	l.dkim.Store(lu.dkim)
	if lu.sso != nil {
		l.sso.SetMapping(*lu.sso)
	}
}
