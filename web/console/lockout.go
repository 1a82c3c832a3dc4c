package console

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/sendguard/sendguard/internal/ratelimit"
)

// Failed sign-ins slow down whoever fails, never the account everywhere:
// an exponential back-off per client IP, and one per account and client
// network (/24, /64). A fixed lock per account let anyone lock any account,
// admins included, for 15 minutes by failing its password; now an attacker
// elsewhere only slows down their own guesses, and the admin signs in from
// their own network. Attempts made during a back-off are refused without
// their password being checked, so guessing stays slow: after the free
// failures one guess per doubling delay, up to one per MaxBackoff per
// address and per account and network. The second factor (TOTP) stands
// behind the password either way.
//
// With several nodes the failures are counted in the shared database
// (Config.SignIns), so an attacker spreading guesses over nodes waits as
// long as against one.

// Backoff counts one kind of failed sign-in per key, as
// ratelimit.Backoff does (its doc says the rule).
type Backoff interface {
	// Wait is how long key must still wait before its next attempt.
	Wait(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// Fail records a failed attempt and returns the wait it imposes.
	Fail(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// Reset forgets key's failures.
	Reset(ctx context.Context, key string) error
}

// SignInStore makes the back-offs: scope names the kind ("ip",
// "account") so two back-offs never share keys.
type SignInStore interface {
	Backoff(scope string, cfg ratelimit.BackoffConfig) Backoff
}

// MemorySignIns keeps failures in this process (one node).
type MemorySignIns struct{}

func (MemorySignIns) Backoff(_ string, cfg ratelimit.BackoffConfig) Backoff {
	return memBackoff{ratelimit.NewBackoff(cfg)}
}

type memBackoff struct{ b *ratelimit.Backoff }

func (m memBackoff) Wait(_ context.Context, key string, now time.Time) (time.Duration, error) {
	return m.b.Wait(key, now), nil
}

func (m memBackoff) Fail(_ context.Context, key string, now time.Time) (time.Duration, error) {
	return m.b.Fail(key, now), nil
}

func (m memBackoff) Reset(_ context.Context, key string) error { m.b.Reset(key); return nil }

// backoffTimeout bounds a shared back-off's answer; waitUnknown is the
// wait imposed when it does not answer (fail closed).
const (
	backoffTimeout = 2 * time.Second
	waitUnknown    = 5 * time.Second
)

func newSignInLimits(cfg Config) (ip, account Backoff) {
	ipFree, userFree, maxWait := cfg.MaxFailuresPerIP, cfg.MaxFailuresPerUser, cfg.MaxBackoff
	if ipFree <= 0 {
		ipFree = 20
	}
	if userFree <= 0 {
		userFree = 5
	}
	if maxWait <= 0 {
		maxWait = 15 * time.Minute
	}
	var st SignInStore = MemorySignIns{}
	if cfg.SignIns != nil {
		st = cfg.SignIns
	}
	return st.Backoff("ip", ratelimit.BackoffConfig{Free: ipFree, Base: time.Second, Max: maxWait}),
		st.Backoff("account", ratelimit.BackoffConfig{Free: userFree, Base: time.Second, Max: maxWait})
}

// signInDelayed reports whether ip, or account from ip's network, must
// still wait; it tells the browser how long with Retry-After. A back-off
// store that does not answer refuses the attempt.
func (h *Handler) signInDelayed(w http.ResponseWriter, ip, account string, now time.Time) bool {
	ctx, cancel := context.WithTimeout(context.Background(), backoffTimeout)
	defer cancel()
	w1, err1 := h.ipLim.Wait(ctx, ip, now)
	w2, err2 := h.userLim.Wait(ctx, ratelimit.AccountKey(account, ip), now)
	wait := max(w1, w2)
	if err := cmpErr(err1, err2); err != nil {
		h.log.Error("sign-in back-off unavailable", "err", err)
		wait = max(wait, waitUnknown)
	}
	if wait <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	return true
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (h *Handler) signInFailed(ip, account string, now time.Time) {
	h.ipFailed(ip, now)
	ctx, cancel := context.WithTimeout(context.Background(), backoffTimeout)
	defer cancel()
	if _, err := h.userLim.Fail(ctx, ratelimit.AccountKey(account, ip), now); err != nil {
		h.log.Error("record failed sign-in", "err", err)
	}
}

// ipFailed counts a failure against the client address only.
func (h *Handler) ipFailed(ip string, now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), backoffTimeout)
	defer cancel()
	if _, err := h.ipLim.Fail(ctx, ip, now); err != nil {
		h.log.Error("record failed sign-in", "err", err)
	}
}

// signInSucceeded clears the account's failures from this network. The
// address's own failures stay: signing in to one's own account must not
// wash away guesses at others.
func (h *Handler) signInSucceeded(ip, account string) {
	ctx, cancel := context.WithTimeout(context.Background(), backoffTimeout)
	defer cancel()
	if err := h.userLim.Reset(ctx, ratelimit.AccountKey(account, ip)); err != nil {
		h.log.Error("clear failed sign-ins", "err", err)
	}
}
