// Package accountstest is the conformance suite every console.Accounts
// passes: this node's bbolt buckets and the nodes' shared PostgreSQL.
package accountstest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/web/console"
)

// Run runs the suite; open returns an empty store (two calls may return
// two handles on one database: a second node).
func Run(t *testing.T, open func(t *testing.T) (console.Accounts, console.Accounts)) {
	ctx := context.Background()
	t.Run("Users", func(t *testing.T) {
		a, _ := open(t)
		if _, err := a.User(ctx, "nobody"); !errors.Is(err, console.ErrUserNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		for _, n := range []string{"carol", "alice", "bob"} {
			if err := a.AddUser(ctx, n, rec(n, 0)); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.AddUser(ctx, "alice", rec("alice", 9)); !errors.Is(err, console.ErrUserExists) {
			t.Fatalf("duplicate: %v", err)
		}
		list, err := a.Users(ctx)
		if err != nil || len(list) != 3 || name(t, list[0]) != "alice" || name(t, list[2]) != "carol" {
			t.Fatalf("users: %v %q", err, list)
		}
		if v, err := a.User(ctx, "alice"); err != nil || count(t, v) != 0 {
			t.Fatalf("alice: %v %s", err, v)
		}
		boom := errors.New("boom")
		err = a.UpdateUser(ctx, "alice", false, func([]byte) ([]byte, error) { return rec("alice", 5), boom })
		if !errors.Is(err, boom) {
			t.Fatalf("update error: %v", err)
		}
		if v, _ := a.User(ctx, "alice"); count(t, v) != 0 {
			t.Fatalf("a failed update changed the record: %s", v)
		}
		if err := a.UpdateUser(ctx, "nobody", false, func(v []byte) ([]byte, error) { return v, nil }); !errors.Is(err, console.ErrUserNotFound) {
			t.Fatalf("update unknown: %v", err)
		}
		if err := a.DeleteUser(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		if err := a.DeleteUser(ctx, "bob"); !errors.Is(err, console.ErrUserNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
	t.Run("UpdateIsAtomicAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		if err := a.AddUser(ctx, "alice", rec("alice", 0)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 20 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.UpdateUser(ctx, "alice", false, func(v []byte) ([]byte, error) {
					return rec("alice", count(t, v)+1), nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if v, _ := b.User(ctx, "alice"); count(t, v) != 20 {
			t.Fatalf("20 increments gave %s", v)
		}
	})
	t.Run("Sessions", func(t *testing.T) {
		a, b := open(t)
		now := time.Now().UTC().Truncate(time.Second)
		for _, n := range []string{"alice", "bob"} {
			if err := a.AddUser(ctx, n, rec(n, 0)); err != nil {
				t.Fatal(err)
			}
		}
		if v, err := b.Session(ctx, key("none")); err != nil || v != nil {
			t.Fatalf("unknown session: %v %s", err, v)
		}
		put := func(s console.Accounts, k, user string, old *[32]byte, seen time.Time) {
			t.Helper()
			v, exp := sess(user, seen)
			if err := s.PutSession(ctx, key(k), old, user, exp, v); err != nil {
				t.Fatal(err)
			}
		}
		put(a, "form", "", nil, now)
		f := key("form")
		put(a, "a1", "alice", &f, now) // sign-in replaces the form session
		if v, _ := b.Session(ctx, key("form")); v != nil {
			t.Fatal("the replaced session is still there")
		}
		if v, _ := b.Session(ctx, key("a1")); v == nil || user(t, v) != "alice" {
			t.Fatalf("a session made on one handle is not read on the other: %s", v)
		}
		put(b, "a2", "alice", nil, now)
		put(a, "b1", "bob", nil, now)
		// Revoking on update and deleting an account end its sessions only.
		if err := b.UpdateUser(ctx, "alice", true, func(v []byte) ([]byte, error) { return v, nil }); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"a1", "a2"} {
			if v, _ := a.Session(ctx, key(k)); v != nil {
				t.Fatalf("session %s outlived the revocation", k)
			}
		}
		if v, _ := a.Session(ctx, key("b1")); v == nil {
			t.Fatal("bob's session was revoked with alice's")
		}
		if err := a.DeleteUser(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		if v, _ := b.Session(ctx, key("b1")); v != nil {
			t.Fatal("a deleted account's session lives on")
		}
		// A single-use state is taken once across handles.
		put(a, "sso", "", nil, now)
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := 0
		for i := range 10 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := s.TakeSession(ctx, key("sso"))
				if err != nil {
					t.Error(err)
				}
				if v != nil {
					mu.Lock()
					got++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if got != 1 {
			t.Fatalf("a single-use state was taken %d times", got)
		}
		// Sweep removes expired sessions only; Delete removes one.
		put(a, "old", "alice", nil, now.Add(-2*time.Hour))
		put(a, "new", "alice", nil, now)
		if err := b.Sweep(ctx, now, 100); err != nil {
			t.Fatal(err)
		}
		if v, _ := a.Session(ctx, key("old")); v != nil {
			t.Fatal("an expired session was not swept")
		}
		if v, _ := a.Session(ctx, key("new")); v == nil {
			t.Fatal("a live session was swept")
		}
		if err := b.DeleteSession(ctx, key("new")); err != nil {
			t.Fatal(err)
		}
		if v, _ := a.Session(ctx, key("new")); v != nil {
			t.Fatal("a deleted session is still read")
		}
	})
}

func key(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// rec is an account record with a counter in its language field's place
// (stores keep records opaque).
func rec(name string, n int) []byte {
	b, _ := json.Marshal(map[string]any{"name": name, "role": "viewer", "lang": fmt.Sprint(n)})
	return b
}

func field(t *testing.T, v []byte, f string) string {
	var m map[string]any
	if err := json.Unmarshal(v, &m); err != nil {
		t.Fatalf("record %q: %v", v, err)
	}
	s, _ := m[f].(string)
	return s
}

func name(t *testing.T, v []byte) string { return field(t, v, "name") }
func user(t *testing.T, v []byte) string { return field(t, v, "user") }

func count(t *testing.T, v []byte) int {
	var n int
	fmt.Sscan(field(t, v, "lang"), &n)
	return n
}

// sess is a signed-in session record as the console writes it, last seen
// at seen, and its expiry (30 minutes idle).
func sess(user string, seen time.Time) ([]byte, time.Time) {
	b, _ := json.Marshal(map[string]any{"stage": "full", "user": user, "csrf": "c", "created": seen, "seen": seen})
	return b, seen.Add(30 * time.Minute)
}
