package link

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Run purges every interval until ctx ends. A failed or panicking purge
// is logged and retried at the next tick.
func (s *Store) Run(ctx context.Context, every time.Duration) {
	RunPurge(ctx, every, s.log, s.now, s.Purge)
}

func purgeOnce(ctx context.Context, log *slog.Logger, now func() time.Time,
	purge func(context.Context, time.Time) (PurgeStats, error)) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("link purge panicked", "panic", fmt.Sprint(p))
		}
	}()
	st, err := purge(ctx, now())
	if err != nil && ctx.Err() == nil {
		log.Error("link purge", "err", err)
		return
	}
	if st != (PurgeStats{}) {
		log.Info("link purge", "files", st.Files, "records", st.Records, "orphans", st.Orphans)
	}
}
