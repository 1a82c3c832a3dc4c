package hold

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// A record moved to another store leaves nothing behind but its audit
// events; one decided there comes back without a deadline or an event.
func TestForgetAndImport(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{})
	now := f.clock.Now()
	rec := &Record{ID: "m1", Kind: KindReview, Sender: "a@example.com", Deadline: now.Add(time.Hour),
		Recipients: RecipientSummary{Domains: []string{"partner.test"}}}
	if err := f.s.Create(ctx, rec, System, "policy"); err != nil {
		t.Fatal(err)
	}
	tok := Token{Hash: sha256.Sum256([]byte("t")), MessageID: "m1", Role: RoleSender, Expires: now.Add(time.Hour), Subject: "a@example.com"}
	if err := f.s.AddToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	err := f.db.Update(func(tx *bbolt.Tx) error {
		toks, err := TokensTx(tx, "m1")
		if err != nil || len(toks) != 1 || toks[0].Hash != tok.Hash || toks[0].Subject != "a@example.com" {
			t.Fatalf("tokens %+v %v", toks, err)
		}
		if ids := HeldIDsTx(tx, 10); len(ids) != 1 || ids[0] != "m1" {
			t.Fatalf("held ids %v", ids)
		}
		return ForgetTx(tx, "m1")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Get(ctx, "m1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("forgotten record: %v", err)
	}
	if c, _ := f.s.Counts(ctx); c.ByState[StateHeld] != 0 || c.HeldByKind[KindReview] != 0 {
		t.Fatalf("counts after forget: %+v", c)
	}
	if _, _, err := f.s.LookupToken(ctx, tok.Hash, RoleSender, now); !errors.Is(err, ErrTokenUnknown) {
		t.Fatalf("token after forget: %v", err)
	}
	if n, err := f.s.Tick(ctx, now.Add(2*time.Hour)); n != 0 || err != nil {
		t.Fatalf("deadline after forget: %d %v", n, err)
	}
	if ev, _ := f.s.Events(ctx, "m1"); len(ev) != 1 {
		t.Fatalf("events after forget: %d", len(ev))
	}

	rec.State, rec.DecidedAt, rec.DecidedBy, rec.Mode = StateReleased, now, Actor{Name: "rev", Role: "reviewer"}, ModeBcc
	if err := f.db.Update(func(tx *bbolt.Tx) error { return ImportTx(tx, rec) }); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Update(func(tx *bbolt.Tx) error { return ImportTx(tx, rec) }); !errors.Is(err, ErrExists) {
		t.Fatalf("second import: %v", err)
	}
	got, err := f.s.Get(ctx, "m1")
	if err != nil || got.State != StateReleased || got.Mode != ModeBcc {
		t.Fatalf("imported %+v %v", got, err)
	}
	if c, _ := f.s.Counts(ctx); c.ByState[StateReleased] != 1 {
		t.Fatalf("counts after import: %+v", c)
	}
	if n, _ := f.s.Tick(ctx, now.Add(2*time.Hour)); n != 0 {
		t.Fatal("an imported decided record has a deadline")
	}
	if _, err := f.s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if m := ModeOf(); m != ModeAsIs {
		t.Fatalf("ModeOf() = %s", m)
	}
	if m := ModeOf(WithMode(ModeEncrypt)); m != ModeEncrypt {
		t.Fatalf("ModeOf(encrypt) = %s", m)
	}
}
