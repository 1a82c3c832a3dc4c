package disposition

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/rewrite"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/profile"
	"github.com/sendguard/sendguard/spool"
)

// Per-domain protection profiles: the policy decides whether attachments
// are protected, each recipient domain's profile how. The recipients are
// split into groups (profile.Table.Split) and every group gets its own
// copy: links per recipient, one zip per encrypted group, the (Bcc'd)
// message as is for plain groups, and a TLS requirement where the profile
// asks for one. The delivery runner already sends each distinct copy in
// its own transaction, so every recipient gets exactly one.

// Needed reports whether Apply has anything to do for m: a rewrite the
// policy asked for, or a profile that acts even on mail the policy
// delivers as is (refuse_attachments, a TLS requirement).
func (w *Rewriter) Needed(m Message, rw Rewrites) bool {
	if rw.Any() {
		return true
	}
	return w != nil && w.groups(m, rw) != nil
}

// policyMethod is the treatment the policy asked for the whole mail. Link
// wins over encrypt, as in Apply (once linked nothing is left to zip).
func policyMethod(rw Rewrites) profile.Method {
	switch {
	case rw.Link:
		return profile.Links
	case rw.Encrypt:
		return profile.Encrypt
	}
	return profile.None
}

// groups splits m's recipients by profile, or returns nil when the
// profiles change nothing and Apply's single-copy path applies.
func (w *Rewriter) groups(m Message, rw Rewrites) []profile.Group {
	t := w.profiles()
	if t.Empty() {
		return nil
	}
	pm := policyMethod(rw)
	gs := t.Split(pm, m.Rcpts, w.Internal)
	if profile.AsPolicy(gs, pm) {
		return nil
	}
	return gs
}

// applyGroups runs each group's treatment from the copy Bcc left (or the
// body). out.Suffix stays that copy: it is what plain groups receive.
func (w *Rewriter) applyGroups(ctx context.Context, m Message, rw Rewrites, groups []profile.Group, now time.Time, out *Applied) error {
	base := out.Suffix
	var linkRcpts []string
	did := map[string]bool{}
	for _, g := range groups {
		if g.RequireTLS {
			if out.RequireTLS == nil {
				out.RequireTLS = map[string]bool{}
			}
			for _, r := range g.Rcpts {
				out.RequireTLS[r] = true
			}
		}
		if g.Method == profile.Links {
			linkRcpts = append(linkRcpts, g.Rcpts...)
		}
	}
	if len(linkRcpts) > 0 {
		// One package for every linked recipient: each gets their own
		// copy anyway.
		if w.Linker == nil {
			return errors.New("download links are not configured")
		}
		if err := w.DiscardStale(ctx, m.ID); err != nil {
			return fmt.Errorf("revoke links of an earlier attempt: %w", err)
		}
		ln, err := w.Linker.Apply(ctx, m.ID, base, m.Sender, linkRcpts, m.Subject, now)
		switch {
		case errors.Is(err, rewrite.ErrNoAttachments):
		case err != nil:
			return fmt.Errorf("replace attachments by links: %w", err)
		default:
			for r, s := range ln.RcptBodies {
				out.RcptBodies[r] = s
			}
			out.Package = ln.PackageID
			out.Notices.add(ln.Notices)
			did[rules.ActionLink] = true
			if err := w.crash("links created"); err != nil {
				return err
			}
		}
	}
	for i, g := range groups {
		var zip aeszip.Encryption
		switch g.Method {
		case profile.Encrypt:
		case profile.EncryptAES:
			zip = aeszip.AES256
		case profile.EncryptZipCrypto:
			zip = aeszip.ZipCrypto
		default:
			continue
		}
		if w.Encryptor == nil {
			return errors.New("encryption is not configured")
		}
		e := *w.Encryptor
		e.Suffix = "enc" + strconv.Itoa(i)
		if g.Method != profile.Encrypt {
			e.Zip.Encryption = zip
		}
		password := rw.Password
		if password == "" {
			password = rules.PasswordSender
		}
		enc, err := e.Apply(m.ID, base, m.Sender, g.Rcpts, m.Subject, password, now)
		switch {
		case errors.Is(err, ErrNothingToEncrypt):
		case err != nil:
			return fmt.Errorf("encrypt attachments for %s: %w", domainsOf(g.Rcpts), err)
		default:
			for _, r := range g.Rcpts {
				out.RcptBodies[r] = enc.Suffix
			}
			out.Notices.add(enc.Notices)
			did[rules.ActionEncrypt] = true
			if err := w.crash("zip written"); err != nil {
				return err
			}
		}
	}
	for _, a := range []string{rules.ActionLink, rules.ActionEncrypt} {
		if did[a] {
			out.Actions = append(out.Actions, a)
		}
	}
	return nil
}

// syncApplied makes the derived files' and notices' names durable before
// a record naming them commits.
func (w *Rewriter) syncApplied(out *Applied) error {
	if len(out.Actions) == 0 {
		return nil
	}
	return w.Store.SyncDir()
}

func domainsOf(rcpts []string) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rcpts {
		_, d, _ := strings.Cut(r, "@")
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return strings.Join(out, ", ")
}

// applyRequireTLS marks the recipients whose domain requires TLS.
func applyRequireTLS(rec *spool.Record, tls map[string]bool) {
	for i := range rec.Rcpts {
		a := rec.Rcpts[i].Addr
		if tls[a] || tls[strings.ToLower(a)] {
			rec.Rcpts[i].RequireTLS = true
		}
	}
}
