// Package profile resolves per-recipient-domain protection profiles: how
// attachments to one organisation are protected (AES zip, ZipCrypto zip,
// download links, plain over required TLS, or never as files) and whether
// delivery to it requires TLS.
//
// Many Japanese organisations refuse password-protected zips since the
// 2020 "PPAP" retreat; others cannot open AES zips; a partner with a
// TLS-enforced agreement wants files as they are. The policy decides
// whether attachments are protected at all; a profile decides how, per
// recipient. One mail to several domains is split into groups, one per
// distinct treatment, and every recipient is in exactly one group.
//
// Invariants: a Table is immutable once built and safe for concurrent use;
// Split is deterministic (groups in order of first recipient, recipients
// in envelope order) and never drops or duplicates a recipient.
package profile

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/net/idna"
)

// Kind is a protection profile.
type Kind string

// Profiles.
const (
	// Policy (the zero value) applies the policy's own action.
	Policy Kind = ""
	// AESZip puts attachments in one AES-256 zip.
	AESZip Kind = "aes_zip"
	// ZipCrypto puts them in a traditional ZipCrypto zip, for recipients
	// whose tools cannot open AES (weak; see encrypt.zip_crypto).
	ZipCrypto Kind = "zipcrypto"
	// Link replaces them with expiring download links.
	Link Kind = "link"
	// Plain sends them as they are, over required TLS: a partner with a
	// TLS-enforced agreement.
	Plain Kind = "plain"
	// RefuseAttachments: the organisation accepts no attached files at
	// all, so they always become links, even when the policy would have
	// delivered them unprotected.
	RefuseAttachments Kind = "refuse_attachments"
)

// ParseKind reads a profile name. The and older spellings are
// accepted: encrypt_zip for aes_zip, none for plain.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case AESZip, ZipCrypto, Link, Plain, RefuseAttachments:
		return k, nil
	case "encrypt_zip", "encrypt":
		return AESZip, nil
	case "none":
		return Plain, nil
	case "policy", "":
		return Policy, nil
	}
	return "", fmt.Errorf("unknown profile %q (aes_zip|zipcrypto|link|plain|refuse_attachments)", s)
}

// Profile is the treatment of one recipient domain.
type Profile struct {
	Kind Kind
	// RequireTLS defers delivery to the recipient while the next hop does
	// not offer STARTTLS. Plain always requires it.
	RequireTLS bool
}

// Rule assigns a profile to a domain: "example.co.jp" (and its
// subdomains) or "*" for every external domain without a rule.
type Rule struct {
	Domain  string
	Profile Profile
	// Source names where the rule came from, for error messages
	// ("encrypt.domains", "partners[2]").
	Source string
}

// Table maps recipient domains to profiles. The zero Table (or nil) has no
// rules: every recipient gets the policy's action.
type Table struct {
	byDomain map[string]Profile
	def      Profile
}

// New validates and indexes rules. A domain given twice with different
// profiles is an error naming both sources.
func New(rules []Rule) (*Table, error) {
	t := &Table{byDomain: map[string]Profile{}}
	seen := map[string]Rule{}
	var errs []error
	for _, r := range rules {
		p := r.Profile
		if p.Kind == Plain {
			p.RequireTLS = true
		}
		dom := "*"
		if strings.TrimSpace(r.Domain) != "*" {
			d, err := canonDomain(r.Domain)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q: %w", r.Source, r.Domain, err))
				continue
			}
			dom = d
		}
		if prev, ok := seen[dom]; ok {
			if normalized(prev.Profile) != p {
				errs = append(errs, fmt.Errorf("%s: %s has profile %s%s, but %s gives %s%s", r.Source, dom,
					p.Kind, tlsNote(p), prev.Source, prev.Profile.Kind, tlsNote(normalized(prev.Profile))))
			}
			continue
		}
		seen[dom] = r
		if dom == "*" {
			t.def = p
		} else {
			t.byDomain[dom] = p
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

func normalized(p Profile) Profile {
	if p.Kind == Plain {
		p.RequireTLS = true
	}
	return p
}

func tlsNote(p Profile) string {
	if p.RequireTLS && p.Kind != Plain {
		return " with TLS required"
	}
	return ""
}

func canonDomain(s string) (string, error) {
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	s = strings.TrimPrefix(s, "@")
	a, err := idna.Lookup.ToASCII(s)
	if err != nil || a == "" || !strings.Contains(a, ".") {
		return "", errors.New("not a domain")
	}
	return a, nil
}

// Empty reports whether the table has no rule at all.
func (t *Table) Empty() bool {
	return t == nil || (len(t.byDomain) == 0 && t.def == Profile{})
}

// For returns the profile of a recipient domain: the rule of the domain
// or of its nearest parent domain, else the "*" rule, else the zero
// Profile (the policy's action).
func (t *Table) For(domain string) Profile {
	if t == nil {
		return Profile{}
	}
	d, err := canonDomain(domain)
	if err != nil {
		return t.def
	}
	for {
		if p, ok := t.byDomain[d]; ok {
			return p
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(rest, ".") {
			return t.def
		}
		d = rest
	}
}

// Domains lists the domains with their own rule, sorted (for the console
// and `config check`).
func (t *Table) Domains() []string {
	if t == nil {
		return nil
	}
	out := make([]string, 0, len(t.byDomain))
	for d := range t.byDomain {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}
