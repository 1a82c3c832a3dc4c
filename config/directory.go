package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Directory configures the company directory: senders' managers (the
// approvers of hold_approver rules that name none), departments and
// groups (sender.department, sender.groups in the policy).
type Directory struct {
	LDAP LDAPDirectory `yaml:"ldap"`
	// TTL keeps an answer, NegativeTTL a "no such address", before they are
	// looked up again; while the directory is down the last answers stay.
	TTL         time.Duration `yaml:"ttl"`
	NegativeTTL time.Duration `yaml:"negative_ttl"`
	// Wait bounds how long a message waits for the lookup of a sender not
	// in the cache (never while the directory is down).
	Wait time.Duration `yaml:"wait"`
	// Retry is how often a failing directory is tried again.
	Retry time.Duration `yaml:"retry"`
	// Approvers lists where approvers come from, in order: "manager" (the
	// sender's manager) and "group" (the members of approver_group).
	// hold.approvers entries for the exact sender address override them;
	// its @domain and "*" entries apply when the directory names nobody.
	Approvers     []string `yaml:"approvers"`
	ApproverGroup string   `yaml:"approver_group"`
	// AbsentGroup names a group (its name, as in sender.groups) whose
	// members are away: an absent approver's notice goes to their deputy.
	AbsentGroup string `yaml:"absent_group"`
}

// LDAPDirectory is an LDAP server or Active Directory domain controller.
type LDAPDirectory struct {
	// URL is ldap://host[:port] or ldaps://host[:port]; empty disables
	// the directory.
	URL      string `yaml:"url"`
	StartTLS bool   `yaml:"starttls"`
	// CAFile verifies the server's certificate (empty: system roots).
	CAFile string `yaml:"ca_file"`
	BindDN string `yaml:"bind_dn"`
	// PasswordFile holds the bind password; never put it inline.
	PasswordFile string `yaml:"password_file"`
	BaseDN       string `yaml:"base_dn"`
	// UserFilter finds a sender; {addr} is the escaped address.
	UserFilter  string         `yaml:"user_filter"`
	GroupBaseDN string         `yaml:"group_base_dn"`
	Attributes  LDAPAttributes `yaml:"attributes"`
	// NestedGroups is auto (the in-chain rule on Active Directory, else a
	// bounded walk), in_chain, walk or off.
	NestedGroups   string        `yaml:"nested_groups"`
	MaxGroupDepth  int           `yaml:"max_group_depth"`
	MaxGroups      int           `yaml:"max_groups"`
	PoolSize       int           `yaml:"pool_size"`
	DialTimeout    time.Duration `yaml:"dial_timeout"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// LDAPAttributes names the attributes read (empty: the Active Directory
// names).
type LDAPAttributes struct {
	Mail        string `yaml:"mail"`
	Manager     string `yaml:"manager"`
	Department  string `yaml:"department"`
	DisplayName string `yaml:"display_name"`
	GroupName   string `yaml:"group_name"`
	Member      string `yaml:"member"`
	// Deputy is a DN-valued attribute naming who approves in a person's
	// stead while they are absent (e.g. secretary); empty reads none.
	Deputy string `yaml:"deputy"`
}

// Enabled reports whether a directory is configured.
func (d Directory) Enabled() bool { return d.LDAP.URL != "" }

// ReadPassword reads the bind password file (trailing newline removed).
func (l LDAPDirectory) ReadPassword() (string, error) {
	if l.PasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(l.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("directory.ldap.password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (v *validator) checkDirectory(d *Directory) {
	l := &d.LDAP
	if !d.Enabled() {
		if l.BindDN != "" || l.BaseDN != "" {
			v.add("directory.ldap.url", "must be set when directory.ldap is configured")
		}
		return
	}
	u, err := url.Parse(l.URL)
	switch {
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" || (u.Path != "" && u.Path != "/"):
		v.add("directory.ldap.url", "%q: want ldap://host[:port] or ldaps://host[:port]", l.URL)
	case u.Scheme == "ldaps" && l.StartTLS:
		v.add("directory.ldap.starttls", "ldaps:// is already TLS")
	case u.Scheme == "ldap" && !l.StartTLS && l.BindDN != "" && !loopbackHost(u.Hostname()):
		v.add("directory.ldap.url", "the bind password would cross the network in clear: use ldaps:// or starttls: true")
	}
	if l.BaseDN == "" {
		v.add("directory.ldap.base_dn", "must not be empty")
	}
	if l.BindDN != "" && l.PasswordFile == "" {
		v.add("directory.ldap.password_file", "bind_dn needs a password_file")
	}
	for key, f := range map[string]string{"directory.ldap.password_file": l.PasswordFile, "directory.ldap.ca_file": l.CAFile} {
		if f != "" {
			if _, err := os.ReadFile(f); err != nil {
				v.add(key, "cannot read: %v", unwrapPath(err))
			}
		}
	}
	if l.UserFilter != "" && (!strings.Contains(l.UserFilter, "{addr}") || !strings.HasPrefix(l.UserFilter, "(")) {
		v.add("directory.ldap.user_filter", "must be an LDAP filter containing {addr}")
	}
	switch l.NestedGroups {
	case "", "auto", "in_chain", "walk", "off":
	default:
		v.add("directory.ldap.nested_groups", "must be auto, in_chain, walk or off, not %q", l.NestedGroups)
	}
	for key, n := range map[string]int{"directory.ldap.max_group_depth": l.MaxGroupDepth,
		"directory.ldap.max_groups": l.MaxGroups, "directory.ldap.pool_size": l.PoolSize} {
		if n < 0 {
			v.add(key, "must not be negative")
		}
	}
	for key, t := range map[string]time.Duration{"directory.ttl": d.TTL, "directory.negative_ttl": d.NegativeTTL,
		"directory.wait": d.Wait, "directory.retry": d.Retry,
		"directory.ldap.dial_timeout": l.DialTimeout, "directory.ldap.request_timeout": l.RequestTimeout} {
		if t < 0 {
			v.add(key, "must not be negative")
		}
	}
	if d.Wait > 2*time.Second {
		v.add("directory.wait", "%v would hold SMTP replies on a slow directory; keep it at 2s or less", d.Wait)
	}
	for i, a := range d.Approvers {
		if a != "manager" && a != "group" {
			v.add(fmt.Sprintf("directory.approvers[%d]", i), "must be manager or group, not %q", a)
		}
	}
	if slices.Contains(d.Approvers, "group") && d.ApproverGroup == "" {
		v.add("directory.approver_group", "approvers lists group: name the group's DN")
	}
}

// allowanceName is the shape of an allowance's name (a policy string).
var allowanceName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (v *validator) checkAllowances(c *Config) {
	if len(c.Allowances) > 0 && !c.Directory.Enabled() {
		v.add("allowances", "groups come from the directory: set directory.ldap.url")
	}
	for name, groups := range c.Allowances {
		if !allowanceName.MatchString(name) {
			v.add("allowances."+name, "name must be lower-case letters, digits and _ (as in allowance(%q, ...))", name)
		}
		for g, n := range groups {
			if strings.TrimSpace(g) == "" {
				v.add("allowances."+name, "a group name is empty")
			}
			if n < 0 {
				v.add("allowances."+name+"."+g, "must not be negative")
			}
		}
	}
}

// AllowancesFor is the allowances of a member of groups: per name, the
// largest value among their groups (group names compared without case).
func (c *Config) AllowancesFor(groups []string) map[string]int {
	var out map[string]int
	for name, byGroup := range c.Allowances {
		for g, n := range byGroup {
			if !slices.ContainsFunc(groups, func(x string) bool { return strings.EqualFold(x, g) }) {
				continue
			}
			if out == nil {
				out = map[string]int{}
			}
			if cur, ok := out[name]; !ok || n > cur {
				out[name] = n
			}
		}
	}
	return out
}
