package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error lists every problem found in a configuration.
type Error struct {
	File     string
	Problems []Problem
}

// Problem is one invalid or unknown key.
type Problem struct {
	Line int    // 0 when unknown
	Key  string // dotted path, e.g. smtp.trusted_networks[1]
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s):", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if p.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		if p.Key != "" {
			fmt.Fprintf(&b, "%s: ", p.Key)
		}
		b.WriteString(p.Msg)
	}
	return b.String()
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes YAML over the defaults and validates the result. name is
// used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	cfg := Defaults()
	cerr := &Error{File: name}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		cerr.Problems = append(cerr.Problems, yamlProblems(err)...)
		return nil, cerr
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		for _, p := range yamlProblems(err) {
			if p.Key == "" && p.Line > 0 {
				// "cannot unmarshal !!str into int" says what, not where.
				p.Key = keyAtLine(&root, p.Line)
			}
			cerr.Problems = append(cerr.Problems, p)
		}
		return nil, cerr
	}
	v := validator{root: &root}
	v.check(&cfg)
	if len(v.problems) > 0 {
		cerr.Problems = v.problems
		return nil, cerr
	}
	return &cfg, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)
var unknownField = regexp.MustCompile(`^field (\S+) not found in type config\.(\w+)$`)

// yamlProblems turns yaml.v3's messages into Problems with line numbers and
// the names a user wrote.
func yamlProblems(err error) []Problem {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var out []Problem
	for _, m := range msgs {
		p := Problem{Msg: m}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			p.Msg = sm[2]
		}
		if sm := unknownField.FindStringSubmatch(p.Msg); sm != nil {
			p.Key = sectionOf(sm[2]) + sm[1]
			p.Msg = "unknown key"
		}
		out = append(out, p)
	}
	return out
}

func sectionOf(typ string) string {
	switch typ {
	case "SMTP":
		return "smtp."
	case "Delivery":
		return "delivery."
	case "Web":
		return "web."
	case "Log":
		return "log."
	case "Notify":
		return "notify."
	case "Hold":
		return "hold."
	case "Encrypt":
		return "encrypt."
	case "Link":
		return "link."
	case "Extraction":
		return "extraction."
	case "TLS":
		return "tls."
	case "Untrusted":
		return "smtp.untrusted."
	case "AuthBackoff":
		return "smtp.auth_backoff."
	case "User":
		return "smtp.users[]."
	case "DKIM":
		return "dkim."
	case "DKIMDomain":
		return "dkim.domains.<domain>."
	case "Directory":
		return "directory."
	case "Storage":
		return "storage."
	case "LDAPDirectory":
		return "directory.ldap."
	case "LDAPAttributes":
		return "directory.ldap.attributes."
	case "Detect":
		return "detect."
	case "Console":
		return "console."
	case "OIDC":
		return "console.oidc."
	case "Dictionary":
		return "detect.dictionaries[]."
	case "Pattern":
		return "detect.patterns[]."
	case "Allow":
		return "detect.allow."
	case "EDM":
		return "edm."
	case "Partner":
		return "partners[]."
	}
	return ""
}

type validator struct {
	root     *yaml.Node
	problems []Problem
}

func (v *validator) add(key, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: v.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// line finds the YAML line of a dotted key such as "smtp.trusted_networks[1]".
func (v *validator) line(key string) int {
	n := v.root
	if n == nil || len(n.Content) == 0 {
		return 0
	}
	n = n.Content[0]
	line := 0
	for _, part := range strings.Split(key, ".") {
		idx := -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
			part = part[:i]
		}
		next := mapValue(n, part)
		if next == nil {
			return line
		}
		line = next.Line
		n = next
		if idx >= 0 && n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (v *validator) check(c *Config) {
	if c.DataDir == "" {
		v.add("data_dir", "must not be empty")
	}
	if c.Hostname != "" && !validDomain(c.Hostname) {
		v.add("hostname", "%q is not a host name", c.Hostname)
	}
	for i, d := range c.InternalDomains {
		if !validDomainPattern(d) {
			v.add(fmt.Sprintf("internal_domains[%d]", i), "%q is not a domain (or *.domain)", d)
		}
	}
	for i, d := range c.PartnerDomains {
		if !validDomainPattern(d) {
			v.add(fmt.Sprintf("partner_domains[%d]", i), "%q is not a domain (or *.domain)", d)
		}
	}
	if c.Policy != "" {
		if _, err := os.Stat(c.Policy); err != nil {
			v.add("policy", "cannot read policy file: %v", unwrapPath(err))
		}
	}
	v.checkSMTP(&c.SMTP)
	v.checkOwnData(c)
	v.checkDelivery(&c.Delivery)
	v.checkWeb(&c.Web)
	v.checkDKIM(&c.DKIM)
	v.checkDirectory(&c.Directory)
	v.checkAllowances(c)
	v.checkConsole(&c.Console, c.Web.BaseURL)
	v.checkExtraction(&c.Extraction)
	v.checkDetect(&c.Detect)
	v.checkStorage(&c.Storage)
	if c.Notify.From != "" {
		if _, err := mail.ParseAddress(c.Notify.From); err != nil {
			v.add("notify.from", "%q is not an address", c.Notify.From)
		}
	}
	if c.DefaultLanguage != "ja" && c.DefaultLanguage != "en" {
		v.add("default_language", "must be ja or en, not %q", c.DefaultLanguage)
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			v.add("time_zone", "unknown time zone %q (an IANA name such as Asia/Tokyo)", c.TimeZone)
		}
	}
	switch c.Notify.Language {
	case "", "ja", "en":
	default:
		v.add("notify.language", "must be ja, en or empty (both), not %q", c.Notify.Language)
	}
	for k, l := range c.Notify.Languages {
		if l != "ja" && l != "en" {
			v.add("notify.languages."+k, "must be ja or en, not %q", l)
		}
	}
	if c.Notify.Relay != "" {
		if _, port, err := net.SplitHostPort(c.Notify.Relay); err != nil || port == "" {
			v.add("notify.relay", "%q must be host:port or [host]:port", c.Notify.Relay)
		}
	}
	if c.Hold.ExpireAfter < time.Second {
		v.add("hold.expire_after", "must be at least 1s")
	}
	if c.Hold.Retention < 0 {
		v.add("hold.retention", "must not be negative")
	}
	if c.Sent.Retention < 0 {
		v.add("sent.retention", "must not be negative")
	}
	if c.Sent.ReportWindow < 0 {
		v.add("sent.report_window", "must not be negative")
	}
	if c.Sent.ConfirmExpireAfter < 0 {
		v.add("sent.confirm_expire_after", "must not be negative")
	}
	if c.Reports.Retention < 0 {
		v.add("reports.retention", "must not be negative")
	}
	if c.Encrypt.PasswordLength < 8 || c.Encrypt.PasswordLength > 64 {
		v.add("encrypt.password_length", "must be between 8 and 64")
	}
	if c.Encrypt.RecipientDelay < 0 {
		v.add("encrypt.recipient_delay", "must not be negative")
	}
	if c.Encrypt.PresetPasswordsFile != "" {
		if _, err := LoadPresets(c.Encrypt.PresetPasswordsFile); err != nil {
			v.add("encrypt.preset_passwords_file", "%v", err)
		}
	}
	if c.Link.ExpireAfter < time.Minute {
		v.add("link.expire_after", "must be at least 1m")
	}
	if c.Link.MaxDownloads < 0 {
		v.add("link.max_downloads", "must not be negative")
	}
	if c.Hold.ApprovalsRequired < 1 || c.Hold.ApprovalsRequired > 10 {
		v.add("hold.approvals_required", "must be between 1 and 10")
	}
	for k, d := range c.Hold.Deputies {
		if !isAddress(k) {
			v.add("hold.deputies", "%q is not an address", k)
		}
		if !isAddress(d) {
			v.add("hold.deputies."+k, "%q is not an address", d)
		} else if strings.EqualFold(k, d) {
			v.add("hold.deputies."+k, "an approver cannot be their own deputy")
		}
	}
	for i, a := range c.Hold.Absent {
		if !isAddress(a) {
			v.add(fmt.Sprintf("hold.absent[%d]", i), "%q is not an address", a)
		}
	}
	for k, list := range c.Hold.Approvers {
		for i, a := range list {
			if _, err := mail.ParseAddress(a); err != nil {
				v.add(fmt.Sprintf("hold.approvers.%s[%d]", k, i), "%q is not an address", a)
			}
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		v.add("log.format", "must be text or json, not %q", c.Log.Format)
	}
}

func (v *validator) checkSMTP(s *SMTP) {
	v.checkListen("smtp.listen", s.Listen)
	for i, n := range s.TrustedNetworks {
		if _, err := ParsePrefix(n); err != nil {
			v.add(fmt.Sprintf("smtp.trusted_networks[%d]", i), "%q is not a CIDR or IP address", n)
			continue
		}
		if p, _ := ParsePrefix(n); p.Bits() == 0 {
			v.add(fmt.Sprintf("smtp.trusted_networks[%d]", i), "%q trusts every address: that is an open relay", n)
		}
	}
	v.checkTrusted(s)
	v.checkUntrusted(s)
	hasTLS := v.checkTLS("smtp.tls", s.TLS)
	if len(s.Users) > 0 && !hasTLS {
		v.add("smtp.users", "SMTP AUTH needs smtp.tls (passwords are never accepted in clear)")
	}
	seen := map[string]bool{}
	for i, u := range s.Users {
		key := fmt.Sprintf("smtp.users[%d]", i)
		if u.Name == "" {
			v.add(key+".name", "must not be empty")
		}
		if seen[u.Name] {
			v.add(key+".name", "duplicate user %q", u.Name)
		}
		seen[u.Name] = true
		if !strings.HasPrefix(u.PasswordHash, "$2") {
			v.add(key+".password_hash", "must be a bcrypt hash (sendguard passwd-hash prints one)")
		}
	}
	if s.MaxMessageBytes < 1024 {
		v.add("smtp.max_message_bytes", "must be at least 1024")
	}
	if s.MaxRecipients < 1 {
		v.add("smtp.max_recipients", "must be at least 1")
	}
	if s.MaxLineLength < 1000 {
		v.add("smtp.max_line_length", "must be at least 1000 (RFC 5321 allows 998 + CRLF)")
	}
	if s.CommandTimeout <= 0 {
		v.add("smtp.command_timeout", "must be positive")
	}
	if s.DataTimeout <= 0 {
		v.add("smtp.data_timeout", "must be positive")
	}
	if s.MaxConnections < 1 {
		v.add("smtp.max_connections", "must be at least 1")
	}
	if s.MaxConnectionsPerIP < 1 {
		v.add("smtp.max_connections_per_ip", "must be at least 1")
	}
	switch s.BareLF {
	case "reject", "normalize":
	default:
		v.add("smtp.bare_lf", "must be reject or normalize, not %q", s.BareLF)
	}
	switch s.RoutedAddresses {
	case "refuse", "external":
	default:
		v.add("smtp.routed_addresses", "must be refuse or external, not %q", s.RoutedAddresses)
	}
}

func (v *validator) checkDelivery(d *Delivery) {
	if d.NextHop != "" && d.NextHop != "mx" {
		host, port, err := net.SplitHostPort(d.NextHop)
		if err != nil || strings.Trim(host, "[]") == "" {
			v.add("delivery.next_hop", "%q must be host:port, [host]:port or mx", d.NextHop)
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			v.add("delivery.next_hop", "port %q is not a port number", port)
		}
	}
	switch d.TLS {
	case "opportunistic", "required", "none":
	default:
		v.add("delivery.tls", "must be opportunistic, required or none, not %q", d.TLS)
	}
	if d.PasswordFile != "" {
		if _, err := os.ReadFile(d.PasswordFile); err != nil {
			v.add("delivery.password_file", "cannot read: %v", unwrapPath(err))
		}
		if d.Username == "" {
			v.add("delivery.username", "is required with delivery.password_file")
		}
	}
	if d.Workers < 1 {
		v.add("delivery.workers", "must be at least 1")
	}
	if d.MaxConnsPerDest < 1 {
		v.add("delivery.max_conns_per_dest", "must be at least 1")
	}
	if d.QueueLifetime < time.Minute {
		v.add("delivery.queue_lifetime", "must be at least 1m")
	}
	if len(d.Retry) == 0 {
		v.add("delivery.retry", "needs at least one interval")
	}
	for i, r := range d.Retry {
		if r <= 0 {
			v.add(fmt.Sprintf("delivery.retry[%d]", i), "must be positive")
		}
	}
	if d.ConnectTimeout <= 0 {
		v.add("delivery.connect_timeout", "must be positive")
	}
	if d.CommandTimeout <= 0 {
		v.add("delivery.command_timeout", "must be positive")
	}
}

func (v *validator) checkWeb(w *Web) {
	v.checkListen("web.listen", w.Listen)
	u, err := url.Parse(w.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add("web.base_url", "%q must be an absolute http(s) URL", w.BaseURL)
	}
	v.checkWebLimits(w)
	hasTLS := v.checkTLS("web.tls", w.TLS)
	if host, _, err := net.SplitHostPort(w.Listen); err == nil && !hasTLS {
		if ip, err := netip.ParseAddr(host); host == "" || (err == nil && !ip.IsLoopback()) {
			if u != nil && u.Scheme != "https" {
				v.add("web.listen", "listens beyond loopback without TLS: set web.tls, or put a TLS proxy in front and make web.base_url https")
			}
		}
	}
}

func (v *validator) checkListen(key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(key, "%q must be host:port", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "port %q is not a port number", port)
	}
	_ = host
}

// checkTLS validates a cert/key pair; it returns whether TLS is configured.
func (v *validator) checkTLS(key string, t TLS) bool {
	if t.Cert == "" && t.Key == "" {
		return false
	}
	if t.Cert == "" || t.Key == "" {
		v.add(key, "needs both cert and key")
		return false
	}
	if _, err := LoadCertificate(t); err != nil {
		v.add(key, "%v", err)
		return false
	}
	return true
}

// ParsePrefix accepts a CIDR or a single address. IPv4-mapped IPv6
// (::ffff:a.b.c.d) becomes the IPv4 prefix it maps, as client addresses
// are compared unmapped.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		return unmapPrefix(p.Masked()), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

var domainLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func validDomain(d string) bool {
	d = strings.TrimSuffix(strings.ToLower(d), ".")
	if d == "" || len(d) > 253 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if !domainLabel.MatchString(l) && !isUnicodeLabel(l) {
			return false
		}
	}
	return true
}

// isUnicodeLabel accepts an IDN label as typed (it is normalised to punycode
// by the recipient analysis).
func isUnicodeLabel(l string) bool {
	if l == "" {
		return false
	}
	for _, r := range l {
		if r < 0x80 && !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func validDomainPattern(d string) bool {
	return validDomain(strings.TrimPrefix(d, "*."))
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// LoadPresets reads a preset passwords file: a YAML map of recipient
// domain to password (printable ASCII, at least 8 characters).
func LoadPresets(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read preset passwords: %w", unwrapPath(err))
	}
	m := map[string]string{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("preset passwords: %w", err)
	}
	out := map[string]string{}
	for d, pw := range m {
		if len(pw) < 8 || strings.IndexFunc(pw, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
			// Never echo the password itself.
			return nil, fmt.Errorf("preset password for %s must be at least 8 printable ASCII characters", d)
		}
		out[strings.ToLower(strings.TrimSuffix(d, "."))] = pw
	}
	return out, nil
}

// keyAtLine is the dotted path of the outermost mapping key or sequence
// item written on line ("smtp.max_recipients", "smtp.trusted_networks[1]").
func keyAtLine(n *yaml.Node, line int) string {
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if k := walk(c, path); k != "" {
					return k
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line {
					return p
				}
				if found := walk(v, p); found != "" {
					return found
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Line == line {
					return p
				}
				if found := walk(c, p); found != "" {
					return found
				}
			}
		}
		return ""
	}
	return walk(n, "")
}

// isAddress reports whether s is a bare address (no display name).
func isAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == strings.TrimSpace(s)
}
