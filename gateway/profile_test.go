package gateway_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules/profile"
)

// TestProfilesOnRelease: a held mail the policy wants encrypted, released
// by a reviewer, leaves per profile — the partner whose profile is link
// gets links and no zip, the internal recipient the policy's zip — each
// exactly once.
func TestProfilesOnRelease(t *testing.T) {
	rec := &recorder{}
	p := openPipe(t, t.TempDir(), pipePolicy("hold_review, encrypt"), rec, nil)
	defer p.close()
	tb, err := profile.New([]profile.Rule{{Domain: "partner.test", Profile: profile.Profile{Kind: profile.Link}}})
	if err != nil {
		t.Fatal(err)
	}
	p.steps.Rewriter.Profiles = tb // the same Rewriter the acceptance uses
	id := p.send("prof1")
	if _, err := p.q.Decide(context.Background(), id, hold.StateReleased, hold.Actor{Name: "admin", Role: "admin"}, "ok", ""); err != nil {
		t.Fatal(err)
	}
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, m := range rec.got {
		if m.ID != id {
			continue
		}
		for _, r := range m.Rcpts {
			if got[r] != nil {
				t.Fatalf("%s got two copies", r)
			}
			got[r] = m.Data
		}
	}
	partner, internal := got[pipeRcpt], got["carol@example.com"]
	if partner == nil || internal == nil {
		t.Fatalf("copies for %d recipients, want 2", len(got))
	}
	if !dlRE.MatchString(decodeBodies(string(partner))) || bytes.Contains(partner, []byte("application/zip")) || bytes.Contains(partner, []byte("text/csv")) {
		t.Fatalf("the link partner's copy:\n%s", partner)
	}
	if dlRE.MatchString(decodeBodies(string(internal))) || !bytes.Contains(internal, []byte("application/zip")) || bytes.Contains(internal, []byte("text/csv")) {
		t.Fatalf("the internal copy should carry the policy's zip:\n%s", internal)
	}
}

// TestRefuseAttachmentsOnDeliver: mail the policy delivers as is still
// reaches a refuse_attachments partner without the file (links), while
// the internal recipient gets it as sent.
func TestRefuseAttachmentsOnDeliver(t *testing.T) {
	rec := &recorder{}
	p := openPipe(t, t.TempDir(), pipePolicy("deliver"), rec, nil)
	defer p.close()
	tb, err := profile.New([]profile.Rule{{Domain: "partner.test", Profile: profile.Profile{Kind: profile.RefuseAttachments}}})
	if err != nil {
		t.Fatal(err)
	}
	p.steps.Rewriter.Profiles = tb
	id := p.send("refuse1")
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range rec.got {
		if m.ID == id {
			for _, r := range m.Rcpts {
				got[r] = decodeBodies(string(m.Data))
			}
		}
	}
	if len(got) != 2 {
		t.Fatalf("copies for %v", got)
	}
	if p, c := got[pipeRcpt], got["carol@example.com"]; !dlRE.MatchString(p) || strings.Contains(p, "A-100") ||
		dlRE.MatchString(c) || !strings.Contains(c, "A-100") {
		t.Fatalf("partner's copy:\n%s\ninternal copy:\n%s", p, c)
	}
}
