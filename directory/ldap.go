package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// inChainRule is LDAP_MATCHING_RULE_IN_CHAIN: Active Directory expands
// nested group membership on the server.
const inChainRule = "1.2.840.113556.1.4.1941"

// adCapability is LDAP_CAP_ACTIVE_DIRECTORY_OID in the root DSE's
// supportedCapabilities: the server understands inChainRule.
const adCapability = "1.2.840.113556.1.4.800"

// Nested group modes.
const (
	NestedAuto    = "auto"     // in_chain on Active Directory, else walk
	NestedInChain = "in_chain" // one search with the in-chain matching rule
	NestedWalk    = "walk"     // bounded breadth-first search over member
	NestedOff     = "off"      // direct groups only
)

// Config is how to reach and read the directory.
type Config struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool
	// CAFile is a PEM bundle that verifies the server (empty: the system's).
	CAFile string
	// BindDN and Password authenticate the service account; an empty
	// BindDN searches anonymously.
	BindDN   string
	Password string
	BaseDN   string
	// UserFilter finds the sender; {addr} is replaced by the escaped
	// address. It must match one entry.
	UserFilter string
	// Attribute names.
	MailAttr, ManagerAttr, DepartmentAttr, DisplayNameAttr, GroupNameAttr, MemberAttr string
	// DeputyAttr is a DN-valued attribute naming the person's deputy
	// approver; empty reads none.
	DeputyAttr string
	// GroupBaseDN is where groups live (empty: BaseDN).
	GroupBaseDN string
	// NestedGroups is one of the Nested* modes.
	NestedGroups string
	// MaxGroupDepth and MaxGroups bound the walk over nested groups.
	MaxGroupDepth, MaxGroups int
	// PoolSize is the number of connections kept open and the bound on
	// concurrent requests.
	PoolSize int
	// DialTimeout bounds connecting (TCP, TLS, bind); RequestTimeout each
	// LDAP request.
	DialTimeout, RequestTimeout time.Duration
}

// DefaultUserFilter finds a user by primary address or, on Exchange, by
// any of their SMTP addresses.
const DefaultUserFilter = "(|(mail={addr})(proxyAddresses=smtp:{addr}))"

func (c *Config) withDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.UserFilter, DefaultUserFilter)
	def(&c.MailAttr, "mail")
	def(&c.ManagerAttr, "manager")
	def(&c.DepartmentAttr, "department")
	def(&c.DisplayNameAttr, "displayName")
	def(&c.GroupNameAttr, "cn")
	def(&c.MemberAttr, "member")
	def(&c.GroupBaseDN, c.BaseDN)
	def(&c.NestedGroups, NestedAuto)
	if c.MaxGroupDepth <= 0 {
		c.MaxGroupDepth = 8
	}
	if c.MaxGroups <= 0 {
		c.MaxGroups = 500
	}
	if c.PoolSize <= 0 {
		c.PoolSize = 4
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 3 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
}

// ErrReferral is returned when the server refers a search elsewhere.
// Referrals are never chased (a referral loop cannot hang a lookup):
// point the URL at a server that holds the base DN (on Active Directory,
// a global catalog on port 3268/3269).
var ErrReferral = errors.New("directory answered with a referral, which is not followed")

// LDAP reads people and groups from an LDAP server over a bounded pool of
// bound connections. It is safe for concurrent use.
type LDAP struct {
	cfg  Config
	tls  *tls.Config
	host string
	// slots bounds open connections and concurrent requests; idle holds
	// the connections not in use.
	slots chan struct{}
	idle  chan *ldap.Conn
	// inChain is decided once per connection set (auto mode).
	inChain chan bool
}

// NewLDAP checks the configuration; it does not connect.
func NewLDAP(cfg Config) (*LDAP, error) {
	cfg.withDefaults()
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, fmt.Errorf("directory url %q: want ldap://host[:port] or ldaps://host[:port]", cfg.URL)
	}
	if cfg.BaseDN == "" {
		return nil, errors.New("directory base_dn is empty")
	}
	if !strings.Contains(cfg.UserFilter, "{addr}") {
		return nil, errors.New("directory user_filter has no {addr}")
	}
	if _, err := ldap.CompileFilter(strings.ReplaceAll(cfg.UserFilter, "{addr}", "a@example.com")); err != nil {
		return nil, fmt.Errorf("directory user_filter: %w", err)
	}
	switch cfg.NestedGroups {
	case NestedAuto, NestedInChain, NestedWalk, NestedOff:
	default:
		return nil, fmt.Errorf("directory nested_groups %q: want auto, in_chain, walk or off", cfg.NestedGroups)
	}
	l := &LDAP{cfg: cfg, host: u.Hostname(), slots: make(chan struct{}, cfg.PoolSize),
		idle: make(chan *ldap.Conn, cfg.PoolSize), inChain: make(chan bool, 1)}
	if u.Scheme == "ldaps" || cfg.StartTLS {
		l.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("directory ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("directory ca_file %s: no PEM certificate", cfg.CAFile)
			}
			l.tls.RootCAs = pool
		}
	}
	return l, nil
}

// Close closes the idle connections.
func (l *LDAP) Close() {
	for {
		select {
		case c := <-l.idle:
			c.Close()
		default:
			return
		}
	}
}

// conn takes a connection slot, reusing an idle connection or dialling a
// new one. release must be called with whether the connection is still
// good.
func (l *LDAP) conn(ctx context.Context) (*ldap.Conn, func(ok bool), error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("directory: all %d connections busy: %w", cap(l.slots), ctx.Err())
	}
	var c *ldap.Conn
	select {
	case c = <-l.idle:
		if c.IsClosing() {
			c.Close()
			c = nil
		}
	default:
	}
	if c == nil {
		var err error
		if c, err = l.dial(ctx); err != nil {
			<-l.slots
			return nil, nil, err
		}
	}
	release := func(ok bool) {
		if ok && !c.IsClosing() {
			select {
			case l.idle <- c:
			default:
				c.Close()
			}
		} else {
			c.Close()
		}
		<-l.slots
	}
	return c, release, nil
}

func (l *LDAP) dial(ctx context.Context) (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: l.cfg.DialTimeout}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	opts := []ldap.DialOpt{ldap.DialWithDialer(d)}
	if l.tls != nil {
		opts = append(opts, ldap.DialWithTLSConfig(l.tls))
	}
	c, err := ldap.DialURL(l.cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("directory connect %s: %w", l.cfg.URL, err)
	}
	// The bind and StartTLS must also finish within the dial timeout: a
	// server that accepts and never answers must not hold a slot long.
	c.SetTimeout(l.cfg.DialTimeout)
	if l.cfg.StartTLS && !strings.HasPrefix(l.cfg.URL, "ldaps:") {
		if err := c.StartTLS(l.tls); err != nil {
			c.Close()
			return nil, fmt.Errorf("directory starttls: %w", err)
		}
	}
	if l.cfg.BindDN != "" {
		if err := c.Bind(l.cfg.BindDN, l.cfg.Password); err != nil {
			c.Close()
			// The error carries the server's result, never the password.
			return nil, fmt.Errorf("directory bind as %s: %w", l.cfg.BindDN, err)
		}
	}
	c.SetTimeout(l.cfg.RequestTimeout)
	return c, nil
}

// search runs one request on a pooled connection. A network or timeout
// error drops the connection.
func (l *LDAP) search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	c, release, err := l.conn(ctx)
	if err != nil {
		return nil, err
	}
	req.TimeLimit = max(1, int(l.cfg.RequestTimeout/time.Second))
	res, err := c.Search(req)
	if err != nil {
		var le *ldap.Error
		release(errors.As(err, &le) && le.ResultCode != ldap.ErrorNetwork && le.ResultCode != ldap.LDAPResultTimeout)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultReferral) {
			return nil, fmt.Errorf("%w (search %s)", ErrReferral, req.BaseDN)
		}
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return &ldap.SearchResult{}, nil
		}
		return nil, fmt.Errorf("directory search %s: %w", req.BaseDN, err)
	}
	release(true)
	// Continuation references (other partitions, as Active Directory
	// returns for DomainDnsZones) are ignored like any unfollowed referral.
	return res, nil
}

// Lookup finds the person whose address is addr. It returns ErrNotFound
// when no entry matches, and an error naming both entries when two do.
func (l *LDAP) Lookup(ctx context.Context, addr string) (*Person, error) {
	addr = strings.ToLower(addr)
	filter := strings.ReplaceAll(l.cfg.UserFilter, "{addr}", ldap.EscapeFilter(addr))
	attrs := []string{l.cfg.MailAttr, l.cfg.ManagerAttr, l.cfg.DepartmentAttr, l.cfg.DisplayNameAttr}
	if l.cfg.DeputyAttr != "" {
		attrs = append(attrs, l.cfg.DeputyAttr)
	}
	res, err := l.search(ctx, ldap.NewSearchRequest(l.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, 0, false, filter, attrs, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, err
	}
	switch {
	case res == nil || len(res.Entries) == 0:
		return nil, ErrNotFound
	case len(res.Entries) > 1:
		return nil, fmt.Errorf("directory: %d entries have the address %s (%s, %s): fix the directory or user_filter",
			len(res.Entries), addr, res.Entries[0].DN, res.Entries[1].DN)
	}
	e := res.Entries[0]
	p := &Person{Address: addr, DN: e.DN, Mail: strings.ToLower(e.GetEqualFoldAttributeValue(l.cfg.MailAttr)),
		DisplayName: e.GetEqualFoldAttributeValue(l.cfg.DisplayNameAttr),
		Department:  e.GetEqualFoldAttributeValue(l.cfg.DepartmentAttr),
		ManagerDN:   e.GetEqualFoldAttributeValue(l.cfg.ManagerAttr)}
	if p.Mail == "" {
		p.Problems = append(p.Problems, fmt.Sprintf("%s has no %s attribute", e.DN, l.cfg.MailAttr))
	}
	if p.ManagerDN == "" {
		p.Problems = append(p.Problems, fmt.Sprintf("%s has no %s attribute", e.DN, l.cfg.ManagerAttr))
	} else if m, err := l.mailOf(ctx, p.ManagerDN); err != nil {
		return nil, err
	} else if m == "" {
		p.Problems = append(p.Problems, fmt.Sprintf("manager %s has no %s attribute (or does not exist)", p.ManagerDN, l.cfg.MailAttr))
	} else {
		p.Manager = m
	}
	if l.cfg.DeputyAttr != "" {
		if p.DeputyDN = e.GetEqualFoldAttributeValue(l.cfg.DeputyAttr); p.DeputyDN != "" {
			m, err := l.mailOf(ctx, p.DeputyDN)
			if err != nil {
				return nil, err
			}
			if m == "" {
				p.Problems = append(p.Problems, fmt.Sprintf("deputy %s has no %s attribute (or does not exist)", p.DeputyDN, l.cfg.MailAttr))
			}
			p.Deputy = m
		}
	}
	if p.Groups, err = l.groups(ctx, e.DN); err != nil {
		return nil, err
	}
	return p, nil
}

// mailOf reads the mail attribute of one entry ("" when it has none or
// does not exist).
func (l *LDAP) mailOf(ctx context.Context, dn string) (string, error) {
	res, err := l.search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{l.cfg.MailAttr}, nil))
	if err != nil || len(res.Entries) == 0 {
		return "", err
	}
	return strings.ToLower(res.Entries[0].GetEqualFoldAttributeValue(l.cfg.MailAttr)), nil
}

// groups names the groups dn belongs to, nested ones included unless
// nesting is off, sorted.
func (l *LDAP) groups(ctx context.Context, dn string) ([]string, error) {
	useInChain := false
	if l.cfg.NestedGroups == NestedInChain || l.cfg.NestedGroups == NestedAuto {
		var err error
		if useInChain, err = l.supportsInChain(ctx); err != nil {
			return nil, err
		}
		// Another server ignores the rule and finds no groups: an error
		// beats a sender silently in none.
		if !useInChain && l.cfg.NestedGroups == NestedInChain {
			return nil, errors.New("directory: nested_groups is in_chain but the server is not Active Directory (no in-chain matching rule): use walk")
		}
	}
	if useInChain {
		res, err := l.search(ctx, ldap.NewSearchRequest(l.cfg.GroupBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			l.cfg.MaxGroups, 0, false, fmt.Sprintf("(%s:%s:=%s)", l.cfg.MemberAttr, inChainRule, ldap.EscapeFilter(dn)),
			[]string{l.cfg.GroupNameAttr}, nil))
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range res.Entries {
			names = append(names, e.GetEqualFoldAttributeValue(l.cfg.GroupNameAttr))
		}
		return sortedNames(names), nil
	}
	depth := l.cfg.MaxGroupDepth
	if l.cfg.NestedGroups == NestedOff {
		depth = 1
	}
	return l.walk(ctx, dn, depth)
}

// walk finds groups level by level: the groups with a member in the
// frontier, then the groups containing those. The seen set stops cycles;
// depth and MaxGroups bound the work.
func (l *LDAP) walk(ctx context.Context, dn string, depth int) ([]string, error) {
	seen := map[string]bool{strings.ToLower(dn): true}
	frontier := []string{dn}
	var names []string
	for level := 0; level < depth && len(frontier) > 0; level++ {
		var next []string
		for chunk := range slices.Chunk(frontier, 50) {
			var f strings.Builder
			f.WriteString("(|")
			for _, m := range chunk {
				fmt.Fprintf(&f, "(%s=%s)", l.cfg.MemberAttr, ldap.EscapeFilter(m))
			}
			f.WriteString(")")
			res, err := l.search(ctx, ldap.NewSearchRequest(l.cfg.GroupBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
				0, 0, false, f.String(), []string{l.cfg.GroupNameAttr}, nil))
			if err != nil {
				return nil, err
			}
			for _, e := range res.Entries {
				k := strings.ToLower(e.DN)
				if seen[k] {
					continue
				}
				seen[k] = true
				if len(names) >= l.cfg.MaxGroups {
					return nil, fmt.Errorf("directory: %s is in more than %d groups (max_groups)", dn, l.cfg.MaxGroups)
				}
				names = append(names, e.GetEqualFoldAttributeValue(l.cfg.GroupNameAttr))
				next = append(next, e.DN)
			}
		}
		frontier = next
	}
	return sortedNames(names), nil
}

// supportsInChain asks the root DSE once whether the server is Active
// Directory.
func (l *LDAP) supportsInChain(ctx context.Context) (bool, error) {
	select {
	case v := <-l.inChain:
		l.inChain <- v
		return v, nil
	default:
	}
	res, err := l.search(ctx, ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"supportedCapabilities"}, nil))
	if err != nil {
		return false, fmt.Errorf("directory root DSE: %w", err)
	}
	v := len(res.Entries) > 0 && slices.Contains(res.Entries[0].GetAttributeValues("supportedCapabilities"), adCapability)
	select {
	case l.inChain <- v:
	default:
	}
	return v, nil
}

// Members lists the addresses of the people in the group groupDN, nested
// groups included up to MaxGroupDepth.
func (l *LDAP) Members(ctx context.Context, groupDN string) ([]string, error) {
	seen := map[string]bool{strings.ToLower(groupDN): true}
	frontier := []string{groupDN}
	var mails []string
	for level := 0; level < l.cfg.MaxGroupDepth && len(frontier) > 0; level++ {
		var next []string
		for _, g := range frontier {
			res, err := l.search(ctx, ldap.NewSearchRequest(g, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
				1, 0, false, "(objectClass=*)", []string{l.cfg.MemberAttr}, nil))
			if err != nil {
				return nil, err
			}
			if len(res.Entries) == 0 {
				if level == 0 {
					return nil, fmt.Errorf("directory: approver group %s does not exist", groupDN)
				}
				continue
			}
			for _, m := range res.Entries[0].GetEqualFoldAttributeValues(l.cfg.MemberAttr) {
				if seen[strings.ToLower(m)] {
					continue
				}
				seen[strings.ToLower(m)] = true
				if len(seen) > l.cfg.MaxGroups*10 {
					return nil, fmt.Errorf("directory: group %s is too large to use as approvers", groupDN)
				}
				r, err := l.search(ctx, ldap.NewSearchRequest(m, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
					1, 0, false, "(objectClass=*)", []string{l.cfg.MailAttr, l.cfg.MemberAttr}, nil))
				if err != nil {
					return nil, err
				}
				if len(r.Entries) == 0 {
					continue
				}
				e := r.Entries[0]
				if len(e.GetEqualFoldAttributeValues(l.cfg.MemberAttr)) > 0 {
					next = append(next, e.DN) // a nested group
				} else if mail := e.GetEqualFoldAttributeValue(l.cfg.MailAttr); mail != "" {
					mails = append(mails, strings.ToLower(mail))
				}
			}
		}
		frontier = next
	}
	return sortedNames(mails), nil
}

// Ping binds (or reuses a bound connection) and reads the root DSE.
func (l *LDAP) Ping(ctx context.Context) error {
	_, err := l.search(ctx, ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"namingContexts"}, nil))
	return err
}

func sortedNames(s []string) []string {
	out := s[:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
