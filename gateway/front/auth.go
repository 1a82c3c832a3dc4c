package front

import (
	"fmt"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sendguard/sendguard/internal/ratelimit"
)

// SMTP AUTH. Guessing is slowed by an exponential back-off per client IP
// and per account and client network (never per account alone, which
// would let anyone lock the MTA out of its own account), and an unknown
// user costs exactly what a known one does: the placeholder hash has the
// configured hashes' bcrypt cost.

// errAuthThrottled answers attempts made during a back-off; their password
// is not checked. RFC 4954 §6: 454 4.7.0 is a temporary authentication
// failure.
func errAuthThrottled(wait time.Duration) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: fmt.Sprintf("Too many failed authentications, try again in %d s", int(wait.Seconds()+0.999))}
}

// maxAuthKeyName bounds the user name in back-off keys and logs: the name
// is the client's, and the table must stay small.
const maxAuthKeyName = 256

// placeholderHash returns a bcrypt hash of a fixed password no account has,
// at the highest cost among the configured hashes, so checking an unknown
// user takes as long as checking a real one. Mixed costs are reported:
// users with a lower cost remain distinguishable by timing.
func placeholderHash(users map[string][]byte) ([]byte, int, bool, error) {
	cost, mixed := bcrypt.DefaultCost, false
	first := true
	for _, h := range users {
		c, err := bcrypt.Cost(h)
		if err != nil {
			continue // validated at load; a bad hash just never matches
		}
		if first {
			cost, first = c, false
			continue
		}
		if c != cost {
			mixed = true
		}
		cost = max(cost, c)
	}
	h, err := bcrypt.GenerateFromPassword([]byte("sendguard placeholder, never a password"), cost)
	return h, cost, mixed, err
}

func (s *session) AuthMechanisms() []string {
	if len(s.srv.users) == 0 {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				// Acting for another user is not supported; the attempt
				// counts as a failure like any other.
				return s.authenticate(username, password, false)
			}
			return s.authenticate(username, password, true)
		}), nil
	case sasl.Login:
		return &loginServer{auth: func(user, pass string) error { return s.authenticate(user, pass, true) }}, nil
	}
	return nil, s.refused(errAuthMech)
}

// authenticate checks a password against the configured bcrypt hash, under
// the back-off. allowed false makes the attempt fail after the same work.
func (s *session) authenticate(user, pass string, allowed bool) error {
	now := time.Now()
	ipKey := s.ip.String()
	name := user[:min(len(user), maxAuthKeyName)] // for keys and logs
	acctKey := ratelimit.AccountKey(name, ipKey)
	if wait := max(s.srv.authIP.Wait(ipKey, now), s.srv.authAcct.Wait(acctKey, now)); wait > 0 {
		s.srv.metrics.Rejected.WithLabelValues("auth_throttled").Inc()
		s.log.Warn("smtp auth throttled", "user", name, "wait", wait.Round(time.Second))
		return s.refused(errAuthThrottled(wait))
	}
	hash, ok := s.srv.users[user]
	if !ok {
		hash = s.srv.dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || !ok || !allowed {
		s.srv.authIP.Fail(ipKey, now)
		s.srv.authAcct.Fail(acctKey, now)
		s.log.Warn("smtp auth failed", "user", name)
		s.srv.metrics.AuthFailures.Inc()
		return s.refused(errAuthFailed)
	}
	// The IP's failures stay: a valid account must not wash them away.
	s.srv.authAcct.Reset(acctKey)
	s.user = user
	s.log = s.log.With("user", user)
	s.log.Info("smtp auth ok")
	s.srv.promote(s)
	return nil
}
