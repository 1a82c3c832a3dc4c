// Package config holds sendguard's typed configuration: YAML keys, defaults,
// and validation.
//
// Invariants: a Config returned by Load or Parse is complete (defaults
// applied) and valid; it is never mutated after start. Validation reports
// every problem at once, each naming the key and, where known, the YAML line.
// Unsafe settings (an open relay, AUTH without TLS) are refused.
package config

import (
	_ "embed"
	"time"
)

// DefaultYAML is the embedded demo configuration used by `sendguard serve`
// with no -config flag.
//
//go:embed default.yaml
var DefaultYAML []byte

// Config is the whole configuration. The YAML key of each field is fixed by
// its tag; design.md fixes smtp.listen, smtp.trusted_networks,
// delivery.next_hop, data_dir, web.listen, web.base_url, internal_domains and
// partner_domains.
type Config struct {
	DataDir         string   `yaml:"data_dir"`
	Hostname        string   `yaml:"hostname"`
	InternalDomains []string `yaml:"internal_domains"`
	PartnerDomains  []string `yaml:"partner_domains"`
	// Policy is a policy file; empty means the embedded default policy.
	Policy string `yaml:"policy"`
	// DefaultLanguage ("ja" or "en") is the language of pages and mails
	// when neither the reader nor notify.language chooses one.
	DefaultLanguage string `yaml:"default_language"`
	// TimeZone is an IANA zone ("Asia/Tokyo") for every time shown in
	// notices, pages, the console and the CLI; empty means the system's.
	TimeZone string   `yaml:"time_zone"`
	SMTP     SMTP     `yaml:"smtp"`
	Delivery Delivery `yaml:"delivery"`
	Web      Web      `yaml:"web"`
	Notify   Notify   `yaml:"notify"`
	Hold     Hold     `yaml:"hold"`
	Reports  Reports  `yaml:"reports"`
	// Sent is the sent-mail record (config/sent.go).
	Sent    Sent    `yaml:"sent"`
	Encrypt Encrypt `yaml:"encrypt"`
	Link    Link    `yaml:"link"`
	DKIM    DKIM    `yaml:"dkim"`
	// Directory is the company directory (LDAP, Active Directory).
	Directory Directory `yaml:"directory"`
	// Allowances give directory groups more (or less) than the policy's
	// default: allowance name → group name → value. A sender gets the
	// largest value among their groups; the policy reads it with
	// allowance("name", default).
	Allowances map[string]map[string]int `yaml:"allowances"`
	Log        Log                       `yaml:"log"`
	// Console configures console sign-in (config/console.go).
	Console Console `yaml:"console"`
	// Extraction budgets attachment parsers (config/extraction.go).
	Extraction Extraction `yaml:"extraction"`
	Detect     Detect     `yaml:"detect"`
	// EDM is exact data match against the company's own records.
	EDM EDM `yaml:"edm"`
	// Partners is the partner directory (company name ↔ domains) for the
	// addressee check.
	Partners []Partner `yaml:"partners"`
	// Storage selects bbolt or a PostgreSQL shared by several nodes
	// (config/storage.go).
	Storage Storage `yaml:"storage"`
}

// Link configures the link action: attachments replaced by download links.
type Link struct {
	// ExpireAfter is how long links work; files are deleted afterwards.
	ExpireAfter time.Duration `yaml:"expire_after"`
	// MaxDownloads bounds the downloads of each file (0: no limit).
	MaxDownloads int `yaml:"max_downloads"`
}

// Encrypt configures the encrypt action: attachments replaced by one
// password-protected zip.
type Encrypt struct {
	// PasswordLength of generated passwords (default 12, no look-alike
	// characters).
	PasswordLength int `yaml:"password_length"`
	// ZipCrypto selects traditional ZipCrypto instead of AES-256. It is
	// WEAK (known-plaintext attack) and exists only because Windows
	// Explorer opens it without extra tools.
	ZipCrypto bool `yaml:"zip_crypto"`
	// CP932Names stores Japanese file names for old Windows Explorer.
	CP932Names bool `yaml:"cp932_names"`
	// RecipientDelay is how long after the mail the password mail follows
	// in "recipient" mode (PPAP compatibility).
	RecipientDelay time.Duration `yaml:"recipient_delay"`
	// PresetPasswordsFile is a YAML map of recipient domain to the password
	// agreed with that organisation, for "preset" mode. Keep it 0600.
	PresetPasswordsFile string `yaml:"preset_passwords_file"`
	// Domains chooses, per recipient domain (subdomains included) or "*",
	// how attachments the policy protects reach that organisation:
	// aes_zip, zipcrypto, link, plain (as they are, over required TLS) or
	// refuse_attachments (always links). Unlisted domains get the
	// policy's action. Entries here override a partner's profile.
	Domains map[string]string `yaml:"domains"`
	// RequireTLSDomains defer delivery to these domains (subdomains
	// included) until the next hop offers STARTTLS.
	RequireTLSDomains []string `yaml:"require_tls_domains"`
}

// Notify configures the notice mails sent to senders and approvers.
type Notify struct {
	// From is the notices' From address; empty means
	// sendguard@<first internal domain>.
	From string `yaml:"from"`
	// Language is "ja", "en", or empty for both (Japanese first).
	Language string `yaml:"language"`
	// Languages overrides Language per recipient address or "@domain" of
	// the notice (e.g. "@example.co.jp": ja, "alice@example.com": en).
	Languages map[string]string `yaml:"languages"`
	// Relay delivers notices (host:port or [host]:port), e.g. the internal
	// MTA; empty means the next hop.
	Relay string `yaml:"relay"`
}

// Reports configures the stored analysis reports (no bodies) that policy
// replay reads.
type Reports struct {
	// Retention keeps each accepted message's report this long; 0 stores
	// none.
	Retention time.Duration `yaml:"retention"`
}

// Hold configures held messages.
type Hold struct {
	// ExpireAfter is how long a held message waits for a decision.
	ExpireAfter time.Duration `yaml:"expire_after"`
	// Retention keeps cancelled, rejected and expired messages (and their
	// bodies) for review, then purges them.
	Retention time.Duration `yaml:"retention"`
	// Approvers maps a sender address, @domain or "*" to approver addresses
	// for hold_approver rules without their own approvers.
	Approvers map[string][]string `yaml:"approvers"`
	// ApprovalsRequired is how many distinct approvers must approve a
	// hold_approver message (N of M) unless its rule says otherwise;
	// approvers are gathered from every source in order until there are
	// enough, and a message with fewer goes to the security team.
	ApprovalsRequired int `yaml:"approvals_required"`
	// Deputies maps an approver to who approves in their stead while they
	// are absent (the directory's deputy attribute serves when unset).
	Deputies map[string]string `yaml:"deputies"`
	// Absent lists approvers who are away now; their notices go to their
	// deputy (directory.absent_group marks absence in the directory).
	Absent []string `yaml:"absent"`
}

// SMTP configures the inbound listener that the corporate MTA relays to.
type SMTP struct {
	Listen string `yaml:"listen"`
	// TrustedNetworks may relay without authentication (CIDRs or addresses).
	TrustedNetworks []string `yaml:"trusted_networks"`
	TLS             TLS      `yaml:"tls"`
	// Users may relay after SMTP AUTH (PLAIN/LOGIN), only over TLS.
	Users               []User        `yaml:"users"`
	MaxMessageBytes     int64         `yaml:"max_message_bytes"`
	MaxRecipients       int           `yaml:"max_recipients"`
	MaxLineLength       int           `yaml:"max_line_length"`
	CommandTimeout      time.Duration `yaml:"command_timeout"`
	DataTimeout         time.Duration `yaml:"data_timeout"`
	MaxConnections      int           `yaml:"max_connections"`
	MaxConnectionsPerIP int           `yaml:"max_connections_per_ip"`
	// TrustedMinPrefixV4 and TrustedMinPrefixV6 refuse any trusted network
	// wider than this prefix length; TrustedMaxShare refuses trusted
	// networks whose union covers more than this share of the IPv4 or the
	// IPv6 address space. Together they keep an open relay from being
	// configured in pieces (0.0.0.0/1 + 128.0.0.0/1).
	TrustedMinPrefixV4 int     `yaml:"trusted_min_prefix_v4"`
	TrustedMinPrefixV6 int     `yaml:"trusted_min_prefix_v6"`
	TrustedMaxShare    float64 `yaml:"trusted_max_share"`
	// Untrusted bounds clients outside trusted_networks until they
	// authenticate, so they can never take the trusted MTA's slots.
	Untrusted Untrusted `yaml:"untrusted"`
	// AuthBackoff slows down failed SMTP AUTH per client IP and per
	// account and client network.
	AuthBackoff AuthBackoff `yaml:"auth_backoff"`
	// BareLF is "reject" (default: 554 5.6.0, as Postfix
	// smtpd_forbid_bare_newline) or "normalize" (rewrite to CRLF).
	BareLF string `yaml:"bare_lf"`
	// RoutedAddresses is "refuse" (default: 553 5.1.3 at RCPT) or
	// "external": recipients that a next hop could route elsewhere than
	// their domain ('@' in the local part, '%' or '!' routing) are
	// accepted, counted as external and held for the sender to check.
	RoutedAddresses string `yaml:"routed_addresses"`
}

// TLS names a certificate and key in PEM files.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// User is an SMTP AUTH account. PasswordHash is a bcrypt hash
// (`sendguard passwd-hash` prints one).
type User struct {
	Name         string `yaml:"name"`
	PasswordHash string `yaml:"password_hash"`
}

// Delivery configures the outbound side.
type Delivery struct {
	// NextHop is "host:port", "[host]:port" or "mx". Empty means the demo
	// outbox under data_dir (only for trying sendguard out).
	NextHop string `yaml:"next_hop"`
	// TLS is "opportunistic" (default), "required" or "none".
	TLS       string `yaml:"tls"`
	TLSVerify bool   `yaml:"tls_verify"`
	Username  string `yaml:"username"`
	// PasswordFile holds the next hop's AUTH password; never put it inline.
	PasswordFile    string        `yaml:"password_file"`
	Workers         int           `yaml:"workers"`
	MaxConnsPerDest int           `yaml:"max_conns_per_dest"`
	QueueLifetime   time.Duration `yaml:"queue_lifetime"`
	// Retry is the backoff schedule for temporary failures; the last step
	// repeats until QueueLifetime.
	Retry          []time.Duration `yaml:"retry"`
	ConnectTimeout time.Duration   `yaml:"connect_timeout"`
	CommandTimeout time.Duration   `yaml:"command_timeout"`
	// Retention keeps records of finished messages (delivered, bounced) for
	// `sendguard queue show`, then purges them.
	Retention time.Duration `yaml:"retention"`
}

// Web configures the HTTP listener: pages, console, metrics.
type Web struct {
	Listen  string `yaml:"listen"`
	BaseURL string `yaml:"base_url"`
	TLS     TLS    `yaml:"tls"`
	// ReadTimeout bounds reading one request, headers and body.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds each write of a response: a download continues
	// as long as the client keeps reading.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections without a request.
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes int           `yaml:"max_header_bytes"`
	// MaxBodyBytes bounds any request body (the console's .eml test upload
	// is the largest).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxConnections caps open connections; beyond it new ones wait in the
	// listen queue and idle keep-alive connections are closed first.
	MaxConnections      int `yaml:"max_connections"`
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Defaults returns the values used for every key a file leaves out.
func Defaults() Config {
	return Config{
		DataDir:         "./data",
		Hostname:        "",
		DefaultLanguage: "ja",
		SMTP: SMTP{
			Listen:             "127.0.0.1:2525",
			TrustedNetworks:    []string{"127.0.0.0/8", "::1/128"},
			TrustedMinPrefixV4: 8,
			TrustedMinPrefixV6: 32,
			TrustedMaxShare:    1.0 / 64,
			Untrusted: Untrusted{
				MaxConnections:      30,
				MaxConnectionsPerIP: 5,
				AuthTimeout:         20 * time.Second,
				MaxCommands:         30,
				MaxRefused:          5,
			},
			AuthBackoff:         AuthBackoff{PerIPFree: 10, PerAccountFree: 5, Base: time.Second, Max: 10 * time.Minute},
			MaxMessageBytes:     50 << 20,
			MaxRecipients:       1000,
			MaxLineLength:       64 << 10,
			CommandTimeout:      5 * time.Minute,
			DataTimeout:         2 * time.Minute,
			MaxConnections:      200,
			MaxConnectionsPerIP: 50,
			BareLF:              "reject",
			RoutedAddresses:     "refuse",
		},
		Delivery: Delivery{
			TLS:             "opportunistic",
			TLSVerify:       true,
			Workers:         32,
			MaxConnsPerDest: 10,
			QueueLifetime:   5 * 24 * time.Hour,
			Retry: []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute,
				30 * time.Minute, time.Hour},
			ConnectTimeout: 30 * time.Second,
			CommandTimeout: 5 * time.Minute,
			Retention:      7 * 24 * time.Hour,
		},
		Web: Web{
			Listen:              "127.0.0.1:8025",
			BaseURL:             "http://127.0.0.1:8025",
			ReadTimeout:         30 * time.Second,
			WriteTimeout:        60 * time.Second,
			IdleTimeout:         30 * time.Second,
			MaxHeaderBytes:      32 << 10,
			MaxBodyBytes:        26 << 20,
			MaxConnections:      512,
			MaxConnectionsPerIP: 128,
		},
		Hold:    Hold{ExpireAfter: 72 * time.Hour, Retention: 7 * 24 * time.Hour, ApprovalsRequired: 1},
		Reports: Reports{Retention: 30 * 24 * time.Hour},
		Sent:    Sent{Retention: 30 * 24 * time.Hour, ConfirmExpireAfter: 14 * 24 * time.Hour},
		Encrypt: Encrypt{PasswordLength: 12, RecipientDelay: 5 * time.Minute},
		Link:    Link{ExpireAfter: 7 * 24 * time.Hour},
		Log:     Log{Level: "info", Format: "text"},
		Console: Console{LocalLogin: true},

		Extraction: defaultExtraction(),
		Detect:     Detect{BuiltinDictionary: true},
	}
}

// Location is the time zone of time_zone (validated at load), or the
// system's when it is empty.
func (c *Config) Location() *time.Location {
	if c.TimeZone == "" {
		return time.Local
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.Local
	}
	return loc
}
