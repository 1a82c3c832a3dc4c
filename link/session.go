package link

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"time"

	"github.com/sendguard/sendguard/crypto/token"
)

// Domain separators for the MACs made with the handler's secret.
const (
	csrfDomain    = "sendguard/link/csrf/v1\x00"
	sessionDomain = "sendguard/link/session/v1\x00"
)

// sessionCookie is the download session's cookie name. Its Path is the
// link's own path, and its value a MAC over the link's token hash, so it
// opens that link only.
const sessionCookie = "sg_dl"

func (h *Handler) mac(domain string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte(domain))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// csrfToken is a link's form token: a MAC of the link token, so knowing
// a link is not enough to forge a form for it.
func (h *Handler) csrfToken(t token.Token) string {
	hash := t.Hash()
	return base64.RawURLEncoding.EncodeToString(h.mac(csrfDomain, hash[:]))
}

func (h *Handler) csrfValid(t token.Token, got string) bool {
	return token.EqualText(h.csrfToken(t), got)
}

// newSession returns the cookie that lets this browser download a link's
// files until the session expires.
func (h *Handler) newSession(t token.Token, now time.Time) *http.Cookie {
	exp := now.Add(h.sessionTTL)
	hash := t.Hash()
	e := binary.BigEndian.AppendUint64(nil, uint64(exp.Unix()))
	v := append(e, h.mac(sessionDomain, hash[:], e)...)
	return &http.Cookie{
		Name: sessionCookie, Value: base64.RawURLEncoding.EncodeToString(v),
		Path: h.linkPath(t.Text()), Expires: exp, MaxAge: int(h.sessionTTL / time.Second),
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	}
}

// sessionValid reports whether r carries an unexpired session for t.
func (h *Handler) sessionValid(r *http.Request, t token.Token, now time.Time) bool {
	for _, c := range r.CookiesNamed(sessionCookie) {
		v, err := base64.RawURLEncoding.Strict().DecodeString(c.Value)
		if err != nil || len(v) != 8+sha256.Size {
			continue
		}
		exp := time.Unix(int64(binary.BigEndian.Uint64(v[:8])), 0)
		hash := t.Hash()
		if hmac.Equal(v[8:], h.mac(sessionDomain, hash[:], v[:8])) && now.Before(exp) {
			return true
		}
	}
	return false
}
