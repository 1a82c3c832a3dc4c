package delivery

import (
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/spool"
)

// TestHistoryLearnsCanonicalDomains: delivered domains are learned in the
// form the analysis asks about (A-labels), and a routed address teaches
// nothing.
func TestHistoryLearnsCanonicalDomains(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "h.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := NewHistory(db)
	if err != nil {
		t.Fatal(err)
	}
	rec := &spool.Record{Kind: spool.KindMail, Rcpts: []spool.Rcpt{
		{Addr: "u@例え.jp", Status: spool.RcptDelivered},
		{Addr: "v@Partner.Example", Status: spool.RcptDelivered},
		{Addr: `"x@example.com"@evil.example`, Status: spool.RcptDelivered},
		{Addr: "x%evil2.example@relay.example", Status: spool.RcptDelivered},
		{Addr: "w@pending.example", Status: spool.RcptPending},
	}}
	if err := db.Update(func(tx *bbolt.Tx) error { return learnTx(tx, rec, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]bool{
		"xn--r8jz45g.jp": true, "partner.example": true,
		"evil.example": false, "relay.example": false, "pending.example": false,
	} {
		if got := h.Known(d); got != want {
			t.Errorf("Known(%q) = %v, want %v", d, got, want)
		}
	}
}
