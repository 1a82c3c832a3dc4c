package delivery

import (
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/rules/address"
	"github.com/sendguard/sendguard/spool"
)

var bucketDomains = []byte("domains")

// History is the organisation's delivery history: the external domains it
// has delivered to, learned from delivered mail. The recipient analysis
// asks it which domains are first-time. Partner domains from the config
// count as known without it.
type History struct {
	db *bbolt.DB
}

// NewHistory opens the history in the spool's database.
func NewHistory(db *bbolt.DB) (*History, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketDomains)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &History{db: db}, nil
}

// Known reports whether mail was ever delivered to domain.
func (h *History) Known(domain string) bool {
	known := false
	h.db.View(func(tx *bbolt.Tx) error {
		known = tx.Bucket(bucketDomains).Get([]byte(strings.ToLower(domain))) != nil
		return nil
	})
	return known
}

// LearnTx implements queue.Learner: what a finished attempt teaches commits
// with it.
func (h *History) LearnTx(tx *bbolt.Tx, rec *spool.Record, now time.Time) error {
	return learnTx(tx, rec, now)
}

// learnTx records the domains of delivered recipients (first delivery time).
func learnTx(tx *bbolt.Tx, rec *spool.Record, now time.Time) error {
	b := tx.Bucket(bucketDomains)
	if b == nil || rec.Kind != spool.KindMail {
		return nil
	}
	for _, rc := range rec.Rcpts {
		if rc.Status != spool.RcptDelivered {
			continue
		}
		// The analysis asks in the parser's canonical form (A-labels); a
		// routed address teaches nothing about its domain.
		a, err := address.Parse(rc.Addr)
		if err != nil || a.Routed() {
			continue
		}
		k := []byte(a.ASCIIDomain)
		if b.Get(k) == nil {
			if err := b.Put(k, []byte(now.UTC().Format(time.RFC3339))); err != nil {
				return err
			}
		}
	}
	return nil
}
