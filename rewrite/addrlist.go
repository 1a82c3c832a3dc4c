package rewrite

import (
	"fmt"
	"net/mail"
	"strings"
)

// listItem is one element of an address-list (RFC 5322 §3.4): a mailbox or
// a group. Texts keep the original bytes, folding included, trimmed.
type listItem struct {
	text    string   // mailbox text; for a group its display name
	group   bool     // a group "name: members;"
	members []string // group members' texts
}

// splitAddressList splits a raw field body at top-level commas, keeping
// quoted strings, comments, angle addresses and groups intact.
func splitAddressList(v string) ([]listItem, error) {
	var (
		items   []listItem
		cur     strings.Builder
		inGroup bool
		grp     listItem
		quote   bool
		esc     bool
		comment int
		angle   bool
	)
	flush := func() {
		t := strings.TrimSpace(cur.String())
		cur.Reset()
		if t == "" {
			return // obsolete syntax allows empty list elements
		}
		if inGroup {
			grp.members = append(grp.members, t)
		} else {
			items = append(items, listItem{text: t})
		}
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case esc:
			esc = false
		case (quote || comment > 0) && c == '\\':
			esc = true
		case quote:
			if c == '"' {
				quote = false
			}
		case comment > 0:
			switch c {
			case '(':
				comment++
			case ')':
				comment--
			}
		case c == '"':
			quote = true
		case c == '(':
			comment++
		case angle:
			if c == '>' {
				angle = false
			}
		case c == '<':
			angle = true
		case c == ',':
			flush()
			continue
		case c == ':' && !inGroup:
			grp = listItem{text: strings.TrimSpace(cur.String()), group: true}
			cur.Reset()
			inGroup = true
			continue
		case c == ';' && inGroup:
			flush()
			items = append(items, grp)
			inGroup = false
			continue
		}
		cur.WriteByte(c)
	}
	if quote || comment > 0 || angle || inGroup || esc {
		return nil, fmt.Errorf("%w: unbalanced quote, comment, bracket or group", ErrBadAddress)
	}
	flush()
	return items, nil
}

// parseMailbox returns the addr-spec of one mailbox text. Display names
// may be RFC 2047 words in any charset go-message knows; if the name
// cannot be decoded the angle address alone is parsed.
func parseMailbox(text string) (string, error) {
	p := mail.AddressParser{WordDecoder: wordDecoder()}
	s := unfold(text)
	a, err := p.Parse(s)
	if err == nil {
		return a.Address, nil
	}
	// net/mail refuses some valid or common forms (a leading comment, an
	// undecodable display name): retry on the address alone.
	if a, err2 := p.Parse(strings.TrimSpace(stripComments(s))); err2 == nil {
		return a.Address, nil
	}
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		if a, err2 := p.Parse(s[i : j+1]); err2 == nil {
			return a.Address, nil
		}
	}
	// net/mail's messages can quote the input: keep personal data out.
	return "", ErrBadAddress
}

// stripComments removes RFC 5322 comments outside quoted strings.
func stripComments(s string) string {
	var b strings.Builder
	quote, esc, depth := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && (quote || depth > 0):
			esc = true
		case quote && c == '"':
			quote = false
		case quote:
		case c == '(':
			depth++
			continue
		case c == ')' && depth > 0:
			depth--
			continue
		case depth == 0 && c == '"':
			quote = true
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}
