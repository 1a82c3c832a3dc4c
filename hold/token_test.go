package hold

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.create("M", KindSender, 0)
	f.create("N", KindSender, 0)
	now := f.clock.Now()
	add := func(n int, id string, role Role, ttl time.Duration) {
		t.Helper()
		if err := f.s.AddToken(ctx, Token{Hash: tokenHash(n), MessageID: id, Role: role, Expires: now.Add(ttl)}); err != nil {
			t.Fatalf("add token %d: %v", n, err)
		}
	}
	add(1, "M", RoleSender, time.Hour)
	add(2, "M", RoleSender, time.Minute)
	add(3, "N", RoleSender, time.Hour)
	add(4, "N", RoleRecipientDownload, time.Hour)

	for name, tok := range map[string]Token{
		"duplicate":  {Hash: tokenHash(1), MessageID: "M", Role: RoleSender, Expires: now.Add(time.Hour)},
		"no message": {Hash: tokenHash(9), MessageID: "X", Role: RoleSender, Expires: now.Add(time.Hour)},
		"zero hash":  {MessageID: "M", Role: RoleSender, Expires: now.Add(time.Hour)},
		"no role":    {Hash: tokenHash(9), MessageID: "M", Expires: now.Add(time.Hour)},
		"no expiry":  {Hash: tokenHash(9), MessageID: "M", Role: RoleSender},
	} {
		if err := f.s.AddToken(ctx, tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	// Lookup does not consume.
	for range 3 {
		tok, rec, err := f.s.LookupToken(ctx, tokenHash(1), RoleSender, now)
		if err != nil || tok.MessageID != "M" || rec.ID != "M" || len(rec.Report) == 0 {
			t.Fatalf("lookup: %+v %+v %v", tok, rec, err)
		}
	}
	if _, _, err := f.s.LookupToken(ctx, tokenHash(99), RoleSender, now); !errors.Is(err, ErrTokenUnknown) {
		t.Fatalf("unknown: %v", err)
	}
	if tok, rec, err := f.s.LookupToken(ctx, tokenHash(1), RoleApprover, now); !errors.Is(err, ErrTokenWrongRole) || tok != nil || rec != nil {
		t.Fatalf("wrong role: %v (leaked %v %v)", err, tok, rec)
	}
	if _, _, err := f.s.LookupToken(ctx, tokenHash(2), RoleSender, now.Add(time.Minute)); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired at its expiry: %v", err)
	}

	// Wrong role, expired and unknown tokens change nothing.
	f.clock.Advance(2 * time.Minute)
	for _, c := range []struct {
		n    int
		role Role
		want error
	}{{1, RoleApprover, ErrTokenWrongRole}, {2, RoleSender, ErrTokenExpired}, {77, RoleSender, ErrTokenUnknown}} {
		if _, err := f.s.TransitionWithToken(ctx, tokenHash(c.n), c.role, StateReleased, alice, ""); !errors.Is(err, c.want) {
			t.Fatalf("token %d: %v, want %v", c.n, err, c.want)
		}
	}
	if st := f.state("M"); st != StateHeld {
		t.Fatalf("M %s", st)
	}

	// Use once; replay is refused and reported as used, with the outcome.
	rec, err := f.s.TransitionWithToken(ctx, tokenHash(1), RoleSender, StateReleased, alice, "confirmed", WithMode(ModeBcc))
	if err != nil || rec.State != StateReleased || rec.Mode != ModeBcc {
		t.Fatalf("use: %+v %v", rec, err)
	}
	if _, err := f.s.TransitionWithToken(ctx, tokenHash(1), RoleSender, StateCancelled, alice, ""); !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("replay: %v", err)
	}
	tok, rec, err := f.s.LookupToken(ctx, tokenHash(1), RoleSender, f.clock.Now().Add(48*time.Hour))
	if !errors.Is(err, ErrTokenUsed) || tok.UsedBy != alice || rec.State != StateReleased || rec.DecidedBy != alice {
		t.Fatalf("lookup used: %+v %+v %v", tok, rec, err)
	}

	// A valid token on a message someone else already decided: the token
	// stays unused and the error says who decided.
	if _, err := f.s.Transition(ctx, "N", StateCancelled, Actor{Name: "bob", Role: "sender"}, ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.TransitionWithToken(ctx, tokenHash(3), RoleSender, StateReleased, alice, "")
	var de *DecidedError
	if !errors.As(err, &de) || de.By.Name != "bob" || de.State != StateCancelled {
		t.Fatalf("decided: %v", err)
	}
	if _, _, err := f.s.LookupToken(ctx, tokenHash(3), RoleSender, f.clock.Now()); err != nil {
		t.Fatalf("token 3 consumed: %v", err)
	}

	// UseToken consumes without a transition.
	if _, err := f.s.UseToken(ctx, tokenHash(4), RoleRecipientDownload, f.clock.Now(), alice); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UseToken(ctx, tokenHash(4), RoleRecipientDownload, f.clock.Now(), alice); !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("second use: %v", err)
	}
}

func FuzzTokenLookup(f *testing.F) {
	fx := newFixture(f, Options{})
	ctx := context.Background()
	fx.create("M", KindSender, 0)
	if err := fx.s.AddToken(ctx, Token{Hash: tokenHash(1), MessageID: "M", Role: RoleSender, Expires: fx.clock.Now().Add(time.Hour)}); err != nil {
		f.Fatal(err)
	}
	valid := tokenHash(1)
	f.Add(valid[:], "sender")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, b []byte, role string) {
		var h [32]byte
		copy(h[:], b)
		tok, _, err := fx.s.LookupToken(ctx, h, Role(role), fx.clock.Now())
		ok := h == tokenHash(1) && role == "sender"
		if ok != (err == nil) || (err == nil && tok.MessageID != "M") {
			t.Fatalf("hash %x role %q: %v", h, role, err)
		}
	})
}
