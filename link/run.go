package link

import (
	"context"
	"fmt"
	"time"
)

// Run purges every interval until ctx ends. A failed or panicking purge
// is logged and retried at the next tick.
func (s *Store) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 10 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.purgeOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Store) purgeOnce(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("link purge panicked", "panic", fmt.Sprint(p))
		}
	}()
	st, err := s.Purge(ctx, s.now())
	if err != nil && ctx.Err() == nil {
		s.log.Error("link purge", "err", err)
		return
	}
	if st != (PurgeStats{}) {
		s.log.Info("link purge", "files", st.Files, "records", st.Records, "orphans", st.Orphans)
	}
}
