package recipients

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/sendguard/sendguard/rules/address"
)

// ErrBadAddress reports an address that could not be recovered.
var ErrBadAddress = errors.New("invalid address")

// maxErrText bounds how much of a broken address is quoted in an error.
const maxErrText = 80

// Address is one parsed mailbox.
type Address struct {
	Name   string // decoded display name
	Local  string // local part, unquoted
	Domain string // canonical domain (see NormalizeDomain)
	// RawDomain is the domain as written, kept for look-alike checks where
	// case and script matter (an upper-case I posing as l).
	RawDomain string
	Group     string // group name when the address was inside a group
	// Routing is set when a next hop could route the address elsewhere
	// than Domain ('@', '%' or '!' in the local part, a source route): such
	// an address is always external.
	Routing address.Routing
	// Invalid is set when the address could not be parsed as a whole; it
	// is always external (an address the analysis cannot classify must not
	// pass as internal, nor vanish).
	Invalid bool
}

// String returns the address in canonical, lower-cased form, quoting the
// local part when it needs quotes.
func (a Address) String() string {
	if a.Domain == "" {
		return strings.ToLower(address.QuoteLocal(a.Local)) // unparsable, kept as written
	}
	return strings.ToLower(address.QuoteLocal(a.Local)) + "@" + a.Domain
}

// key identifies an address for de-duplication and envelope matching.
func (a Address) key() string { return strings.ToLower(a.Local) + "@" + a.Domain }

var addrParser = &mail.AddressParser{WordDecoder: wordDecoder}

// ParseList parses an RFC 5322 address-list (one header field value)
// tolerantly. Every address that can be recovered is returned; the others
// are reported as errors wrapping ErrBadAddress. An address whose domain is
// not a valid host name is both returned (domain lower-cased as written) and
// reported. Group names are recorded on their members; empty groups
// ("undisclosed-recipients:;") yield nothing.
func ParseList(s string) ([]Address, []error) {
	s = mergeEncodedWords(decodeRawISO2022JP(unfold(s)))
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var (
		out  []Address
		errs []error
	)
	for _, it := range splitList(s) {
		a, err := parseItem(it.text)
		if a.Domain != "" && !a.Invalid {
			// What the envelope parser refuses (a local part over 64
			// octets, a path over 256) no next hop would take either: kept,
			// so that it still counts, but flagged.
			if _, perr := address.Parse(a.String()); perr != nil {
				a.Invalid = true
				why := perr.Error()
				if i := strings.LastIndex(why, ": "); i >= 0 {
					why = why[i+2:] // the reason, without the address again
				}
				if err == nil {
					err = badAddress(it.text, why)
				}
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
		if a.Domain != "" {
			a.Group = it.group
			out = append(out, a)
		}
	}
	return out, errs
}

// ParseEnvelope parses an envelope address (RCPT TO), with or without angle
// brackets, with the parser delivery routes by (rules/address): the Domain
// it returns is the domain delivery uses. It never drops an address: one
// that cannot be parsed is returned with Invalid set, together with the
// error, and the analysis counts it as external.
func ParseEnvelope(s string) (Address, error) {
	s = strings.TrimSpace(s)
	pa, err := address.Parse(s)
	if err == nil {
		return Address{Local: pa.Local, Domain: pa.ASCIIDomain, RawDomain: pa.Domain, Routing: pa.Routing}, nil
	}
	a := Address{Local: pa.Local, Domain: pa.ASCIIDomain, RawDomain: pa.Domain, Routing: pa.Routing, Invalid: true}
	if a.Local == "" {
		// Not even split: keep what is recognisable.
		t := strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
		a.Local = t
		if at := strings.LastIndexByte(t, '@'); at >= 0 {
			a.Local, a.RawDomain = t[:at], t[at+1:]
			a.Domain = strings.ToLower(strings.ToValidUTF8(a.RawDomain, "\uFFFD"))
		}
		a.Routing |= address.RoutingOf(a.Local)
		if a.Local == "" {
			a.Local = "(empty)"
		}
	}
	why := err.Error()
	if i := strings.Index(why, ": "); i >= 0 && errors.Is(err, address.ErrSyntax) {
		why = why[i+2:] // the address itself is quoted once, by badAddress
	}
	return a, badAddress(s, why)
}

// unfold removes header folding.
func unfold(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", " ")
}

// parseItem parses one mailbox: strictly first, then by recovering the
// addr-spec from angle brackets or the token carrying '@'.
func parseItem(s string) (Address, error) {
	if m, err := addrParser.Parse(s); err == nil {
		return fromAddrSpec(decodeName(m.Name), m.Address, s, true)
	}
	stripped := stripComments(s)
	if m, err := addrParser.Parse(stripped); err == nil {
		return fromAddrSpec(decodeName(m.Name), m.Address, s, true)
	}
	name, spec := recoverSpec(stripped)
	return fromAddrSpec(decodeName(name), spec, s, false)
}

// recoverSpec finds the addr-spec in text net/mail rejected: the content of
// the last <...> (or of an unclosed '<'), else the last word containing '@'.
func recoverSpec(s string) (name, spec string) {
	if lt := lastTopLevel(s, '<'); lt >= 0 {
		rest := s[lt+1:]
		if gt := strings.IndexByte(rest, '>'); gt >= 0 {
			rest = rest[:gt]
		}
		return unquote(strings.TrimSpace(s[:lt])), strings.TrimSpace(rest)
	}
	// An unbalanced quote hides the brackets from lastTopLevel; the word
	// carrying '@' may still wear them.
	fields := strings.Fields(s)
	for i := len(fields) - 1; i >= 0; i-- {
		if strings.Contains(fields[i], "@") {
			return strings.Trim(unquote(strings.Join(fields[:i], " ")), "\" "), strings.Trim(fields[i], "<>")
		}
	}
	return "", strings.TrimSpace(s)
}

// lastTopLevel returns the index of the last c outside quoted strings.
func lastTopLevel(s string, c byte) int {
	idx, inQuote := -1, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == c && !inQuote:
			idx = i
		}
	}
	return idx
}

// fromAddrSpec validates local@domain and builds an Address; orig is the
// item text quoted in errors. parsed says net/mail already validated and
// unquoted the local part.
func fromAddrSpec(name, spec, orig string, parsed bool) (Address, error) {
	at := strings.LastIndexByte(spec, '@')
	if at <= 0 || at == len(spec)-1 {
		return Address{}, badAddress(orig, "missing local part, '@' or domain")
	}
	local, rawDomain := spec[:at], spec[at+1:]
	routedAt := false
	switch {
	case parsed:
	case len(local) >= 2 && strings.HasPrefix(local, "\"") && strings.HasSuffix(local, "\""):
		local = unquote(local)
	case strings.ContainsAny(local, " \t<>(),;:\"[]\\"):
		return Address{}, badAddress(orig, "invalid local part")
	case strings.Contains(local, "@"):
		// x@a@b: kept, as the next hop would route it (to b), and flagged.
		routedAt = true
	}
	if local == "" {
		return Address{}, badAddress(orig, "empty local part")
	}
	a := Address{Name: name, Local: local, RawDomain: rawDomain, Routing: address.RoutingOf(local)}
	domain, err := NormalizeDomain(rawDomain)
	a.Domain = domain
	if err != nil {
		// Kept (lower-cased, as written) so that the recipient still counts:
		// it can never be internal, and dropping it would hide it.
		a.Invalid = true
		return a, badAddress(orig, err.Error())
	}
	if strings.ContainsFunc(local, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		a.Invalid = true
		return a, badAddress(orig, "control character in the local part")
	}
	if routedAt {
		return a, badAddress(orig, "unquoted '@' in the local part")
	}
	return a, nil
}

func badAddress(orig, why string) error {
	orig = strings.TrimSpace(orig)
	if len(orig) > maxErrText {
		orig = strings.ToValidUTF8(orig[:maxErrText], "") + "…"
	}
	return fmt.Errorf("%w %q: %s", ErrBadAddress, orig, why)
}

// unquote removes surrounding double quotes and backslash escapes.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
