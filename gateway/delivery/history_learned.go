package delivery

import (
	"time"

	"go.etcd.io/bbolt"
)

// Learned returns the domains first delivered to at or after since, and
// the latest such time (since when there is none): what a node copies
// into the cluster's shared history.
func (h *History) Learned(since time.Time) ([]string, time.Time, error) {
	var out []string
	latest := since
	err := h.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDomains).ForEach(func(k, v []byte) error {
			t, err := time.Parse(time.RFC3339, string(v))
			if err != nil || t.Before(since) {
				return nil
			}
			out = append(out, string(k))
			if t.After(latest) {
				latest = t
			}
			return nil
		})
	})
	return out, latest, err
}
