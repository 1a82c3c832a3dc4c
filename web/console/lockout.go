package console

import (
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

func newSignInLimits(cfg Config) (ip, account *ratelimit.Backoff) {
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
	return ratelimit.NewBackoff(ratelimit.BackoffConfig{Free: ipFree, Base: time.Second, Max: maxWait}),
		ratelimit.NewBackoff(ratelimit.BackoffConfig{Free: userFree, Base: time.Second, Max: maxWait})
}

// signInDelayed reports whether ip, or account from ip's network, must
// still wait; it tells the browser how long with Retry-After.
func (h *Handler) signInDelayed(w http.ResponseWriter, ip, account string, now time.Time) bool {
	wait := max(h.ipLim.Wait(ip, now), h.userLim.Wait(ratelimit.AccountKey(account, ip), now))
	if wait <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	return true
}

func (h *Handler) signInFailed(ip, account string, now time.Time) {
	h.ipLim.Fail(ip, now)
	h.userLim.Fail(ratelimit.AccountKey(account, ip), now)
}

// signInSucceeded clears the account's failures from this network. The
// address's own failures stay: signing in to one's own account must not
// wash away guesses at others.
func (h *Handler) signInSucceeded(ip, account string) {
	h.userLim.Reset(ratelimit.AccountKey(account, ip))
}
