package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

var bucketSessions = []byte("console_sessions")

// Session lifetimes.
const (
	idleTimeout     = 30 * time.Minute
	absoluteTimeout = 12 * time.Hour
	// signInTimeout bounds the sign-in steps (form to second factor).
	signInTimeout = 10 * time.Minute
	// seenEvery limits last-seen writes to one per minute per session.
	seenEvery = time.Minute
	// sweepBatch bounds the expired sessions deleted per sign-in.
	sweepBatch = 200
)

// Session stages: a sign-in form, a checked password waiting for the
// second factor, a signed-in user.
const (
	stageForm     = "form"
	stagePassword = "password"
	stageFull     = "full"
)

// session is one browser's state, stored under the hash of its ID.
type session struct {
	Stage   string    `json:"stage"`
	User    string    `json:"user,omitempty"`
	CSRF    string    `json:"csrf"`
	Next    string    `json:"next,omitempty"` // where to go after sign-in
	Lang    string    `json:"lang,omitempty"` // before sign-in
	Created time.Time `json:"created"`
	Seen    time.Time `json:"seen"`
	Via     string    `json:"via,omitempty"` // "password", "proxy" or "oidc"
	// Role is an SSO session's role, from the provider's groups at sign-in.
	Role string `json:"role,omitempty"`

	key [32]byte // hash of the ID, not stored in the value
}

func (s *session) expired(now time.Time) bool {
	life := absoluteTimeout
	if s.Stage != stageFull {
		life = signInTimeout
	}
	return now.Sub(s.Seen) >= idleTimeout || now.Sub(s.Created) >= life || now.Before(s.Created.Add(-time.Minute))
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sessionKey(id string) [32]byte {
	return sha256.Sum256([]byte("sendguard/console/session\x00" + id))
}

func constantEqual(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// startSession stores a new session, replacing old (if any) in the same
// transaction, and sets its cookie. A fresh ID at every sign-in step is
// what defeats session fixation.
func (h *Handler) startSession(w http.ResponseWriter, old *session, s *session) error {
	id, err := randomToken()
	if err != nil {
		return err
	}
	if s.CSRF, err = randomToken(); err != nil {
		return err
	}
	now := h.now().UTC()
	s.Created, s.Seen, s.key = now, now, sessionKey(id)
	v, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if s.Stage == stageFull {
		if err := h.acc.Sweep(ctx, now, sweepBatch); err != nil {
			h.log.Warn("sweep sessions", "err", err)
		}
	}
	var oldKey *[32]byte
	if old != nil {
		oldKey = &old.key
	}
	if err := h.acc.PutSession(ctx, s.key, oldKey, s.User, s.expiry(), v); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	http.SetCookie(w, h.cookie(id, 0))
	return nil
}

func (h *Handler) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: cookieName, Value: value, Path: h.prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode,
	}
}

const cookieName = "sendguard_console"

// loadSession returns the request's live session or nil. It refreshes the
// last-seen time at most once a minute.
func (h *Handler) loadSession(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil || len(c.Value) != 43 {
		return nil
	}
	key := sessionKey(c.Value)
	now := h.now().UTC()
	ctx, cancel := storeCtx()
	defer cancel()
	v, err := h.acc.Session(ctx, key)
	if err != nil {
		h.log.Warn("read session", "err", err)
		return nil
	}
	var s *session
	if v != nil {
		var got session
		if json.Unmarshal(v, &got) == nil {
			s = &got
		}
	}
	if s == nil {
		return nil
	}
	s.key = key
	if s.expired(now) {
		h.deleteSession(s)
		return nil
	}
	if now.Sub(s.Seen) >= seenEvery {
		s.Seen = now
		if v, err := json.Marshal(s); err == nil {
			_ = h.acc.PutSession(ctx, key, nil, s.User, s.expiry(), v)
		}
	}
	return s
}

func (h *Handler) deleteSession(s *session) {
	ctx, cancel := storeCtx()
	defer cancel()
	if err := h.acc.DeleteSession(ctx, s.key); err != nil {
		h.log.Warn("delete session", "err", err)
	}
}
