package config

import (
	"fmt"

	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Console configures how people sign in to the security console.
type Console struct {
	// LocalLogin keeps password + TOTP sign-in (the break-glass path when
	// the IdP is down). It may only be turned off with console.oidc set.
	LocalLogin bool `yaml:"local_login"`
	// OIDC signs the security team in with the company's OpenID Provider.
	OIDC OIDC `yaml:"oidc"`
}

// OIDC is console single sign-on with OpenID Connect: the authorisation
// code flow with PKCE, state and nonce; roles come from a group claim.
type OIDC struct {
	// Issuer is the provider's issuer URL (discovery is read from
	// ISSUER/.well-known/openid-configuration). Empty disables SSO.
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecretFile holds the client secret; never put it inline.
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is what is registered at the provider; it must be
	// web.base_url + "console/sso/callback" (the default).
	RedirectURL string `yaml:"redirect_url"`
	// Scopes requested besides openid; default profile and email.
	Scopes []string `yaml:"scopes"`
	// UsernameClaim names the console user (default preferred_username).
	// "email" is only accepted with email_verified true.
	UsernameClaim string `yaml:"username_claim"`
	// GroupsClaim holds the user's groups or roles (default groups); a
	// dotted path reaches into objects (Keycloak's realm_access.roles).
	GroupsClaim string `yaml:"groups_claim"`
	// Roles maps console roles (admin, reviewer, viewer) to groups; the
	// highest role any of the user's groups maps to wins, and a user with
	// no mapped group is refused.
	Roles map[string][]string `yaml:"roles"`
}

// Enabled reports whether single sign-on is configured.
func (o *OIDC) Enabled() bool { return o.Issuer != "" }

// ConsoleCallback is the console's SSO callback URL under base.
func ConsoleCallback(base string) string {
	return strings.TrimSuffix(base, "/") + "/console/sso/callback"
}

// ClientSecret reads the client secret file, trimmed.
func (o *OIDC) ClientSecret() (string, error) {
	b, err := os.ReadFile(o.ClientSecretFile)
	if err != nil {
		return "", fmt.Errorf("read client secret: %w", unwrapPath(err))
	}
	return strings.TrimSpace(string(b)), nil
}

func defaultOIDC(o *OIDC, base string) {
	if o.RedirectURL == "" {
		o.RedirectURL = ConsoleCallback(base)
	}
	if o.Scopes == nil {
		o.Scopes = []string{"profile", "email"}
	}
	if o.UsernameClaim == "" {
		o.UsernameClaim = "preferred_username"
	}
	if o.GroupsClaim == "" {
		o.GroupsClaim = "groups"
	}
}

func (v *validator) checkConsole(c *Console, base string) {
	o := &c.OIDC
	if !o.Enabled() {
		if !c.LocalLogin {
			v.add("console.local_login", "local sign-in can only be turned off when console.oidc is configured: nobody could sign in")
		}
		if o.ClientID != "" || o.ClientSecretFile != "" || len(o.Roles) > 0 {
			v.add("console.oidc.issuer", "must be set when other console.oidc keys are")
		}
		return
	}
	defaultOIDC(o, base)
	if u, err := url.Parse(o.Issuer); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname()))) {
		v.add("console.oidc.issuer", "%q must be an https URL (http only on loopback)", o.Issuer)
	}
	if o.ClientID == "" {
		v.add("console.oidc.client_id", "must not be empty")
	}
	if o.ClientSecretFile == "" {
		v.add("console.oidc.client_secret_file", "must not be empty")
	} else if s, err := o.ClientSecret(); err != nil {
		v.add("console.oidc.client_secret_file", "%v", err)
	} else if s == "" {
		v.add("console.oidc.client_secret_file", "is empty")
	}
	if want := ConsoleCallback(base); o.RedirectURL != want {
		v.add("console.oidc.redirect_url", "must be %s (web.base_url + console/sso/callback), as registered at the provider", want)
	}
	if slices.Contains(o.Scopes, "openid") {
		v.add("console.oidc.scopes", "openid is always requested; list only the others")
	}
	mapped := 0
	for role, groups := range o.Roles {
		switch role {
		case "admin", "reviewer", "viewer":
			mapped += len(groups)
		default:
			v.add("console.oidc.roles."+role, "unknown role (admin, reviewer or viewer)")
		}
		for i, g := range groups {
			if strings.TrimSpace(g) == "" {
				v.add(fmt.Sprintf("console.oidc.roles.%s[%d]", role, i), "must not be empty")
			}
		}
	}
	if mapped == 0 {
		v.add("console.oidc.roles", "must map at least one group to admin, reviewer or viewer")
	}
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
