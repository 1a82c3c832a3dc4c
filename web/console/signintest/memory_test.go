package signintest_test

import (
	"testing"

	"github.com/sendguard/sendguard/internal/ratelimit"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/signintest"
)

// sharedMemory hands out one back-off per scope: two handles on it stand
// for two nodes of one process.
type sharedMemory struct{ m map[string]console.Backoff }

func (s *sharedMemory) Backoff(scope string, c ratelimit.BackoffConfig) console.Backoff {
	if b := s.m[scope]; b != nil {
		return b
	}
	b := console.MemorySignIns{}.Backoff(scope, c)
	s.m[scope] = b
	return b
}

func TestMemory(t *testing.T) {
	signintest.Run(t, func(t *testing.T) (console.SignInStore, console.SignInStore) {
		s := &sharedMemory{m: map[string]console.Backoff{}}
		return s, s
	})
}
