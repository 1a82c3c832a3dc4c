package rewrite

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Result reports what Bcc changed.
type Result struct {
	// Moved lists the addr-specs removed from To and Cc, in header order.
	// The caller keeps them as envelope recipients (RCPT TO), which makes
	// them blind copies.
	Moved []string `json:"moved"`
	// Kept counts the addresses left visible in To and Cc.
	Kept int `json:"kept"`
	// Changed lists the names of the fields rewritten or dropped.
	Changed []string `json:"changed"`
}

// bufSize is the read buffer for streaming bodies.
const bufSize = 64 << 10

// Bcc copies the message from src to dst with every address for which
// external returns true removed from the To and Cc fields. Every other
// header field, and the body, is copied byte for byte; the body is streamed
// without being parsed.
//
// A rewritten field keeps the remaining mailboxes' text as written
// (display names, RFC 2047 words, comments) and group syntax; a group whose
// members were all removed is dropped. A To left with no mailbox becomes
// "To: undisclosed-recipients:;" (RFC 5322 §3.6.3) unless another To field
// still names someone; an empty Cc is dropped. A field that cannot be
// parsed is copied unchanged and reported: the error then matches
// ErrFieldKept and dst holds a complete message. On any other error dst
// must be discarded; header errors are found before anything is written.
//
// external receives each addr-spec as written (local@domain, domain case
// kept); it should compare domains case-insensitively and decide for
// internationalised domains itself.
func Bcc(dst io.Writer, src io.Reader, external func(addr string) bool) (Result, error) {
	var res Result
	if external == nil {
		return res, errors.New("rewrite: Bcc needs an external-address predicate")
	}
	br := bufio.NewReaderSize(src, bufSize)
	h, err := readRawHeader(br)
	if err != nil {
		return res, err
	}
	out, kept := rewriteRecipients(h, external, &res)
	bw := bufio.NewWriterSize(dst, bufSize)
	for _, f := range out {
		if _, err := bw.Write(f.raw); err != nil {
			return res, fmt.Errorf("write header: %w", err)
		}
	}
	if _, err := bw.Write(h.end); err != nil {
		return res, fmt.Errorf("write header: %w", err)
	}
	if _, err := br.WriteTo(bw); err != nil {
		return res, fmt.Errorf("copy body: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return res, fmt.Errorf("write body: %w", err)
	}
	return res, errors.Join(kept...)
}

// rewriteRecipients returns the new field list and the FieldErrors of the
// fields it could not parse.
func rewriteRecipients(h *rawHeader, external func(string) bool, res *Result) ([]field, []error) {
	type plan struct {
		f       field
		drop    bool
		emptyTo bool
	}
	plans := make([]plan, len(h.fields))
	var kept []error
	toRemains := false
	for i, f := range h.fields {
		plans[i].f = f
		name := strings.ToLower(f.name)
		if name != "to" && name != "cc" {
			continue
		}
		nf, moved, left, err := filterField(f, external, h.eol)
		if err != nil {
			kept = append(kept, &FieldError{Field: f.name, Index: i, Err: err})
			if name == "to" {
				toRemains = true // we cannot know; never add a second To
			}
			continue
		}
		res.Kept += left
		if len(moved) == 0 {
			if name == "to" {
				toRemains = true
			}
			continue
		}
		res.Moved = append(res.Moved, moved...)
		res.Changed = append(res.Changed, f.name)
		switch {
		case nf != nil:
			plans[i].f = *nf
			if name == "to" {
				toRemains = true
			}
		case name == "to":
			plans[i].drop, plans[i].emptyTo = true, true
		default:
			plans[i].drop = true
		}
	}
	out := make([]field, 0, len(plans))
	for _, p := range plans {
		if p.emptyTo && !toRemains {
			toRemains = true
			out = append(out, field{name: p.f.name, raw: []byte(p.f.name + ": undisclosed-recipients:;" + h.eol)})
			continue
		}
		if !p.drop {
			out = append(out, p.f)
		}
	}
	return out, kept
}

// filterField removes external mailboxes from one To/Cc field. It returns
// the new field (nil when nothing is left), the removed addresses and the
// number of mailboxes left. Nothing is removed if any mailbox is
// unparsable.
func filterField(f field, external func(string) bool, eol string) (*field, []string, int, error) {
	body := string(f.raw[len(f.name)+1:])
	items, err := splitAddressList(body)
	if err != nil {
		return nil, nil, 0, err
	}
	var (
		moved []string
		left  int
		keep  []string // output elements, already formatted
	)
	filter := func(texts []string) ([]string, error) {
		var k []string
		for _, t := range texts {
			addr, err := parseMailbox(t)
			if err != nil {
				return nil, err
			}
			if external(addr) {
				moved = append(moved, addr)
				continue
			}
			k = append(k, t)
		}
		return k, nil
	}
	for _, it := range items {
		if !it.group {
			k, err := filter([]string{it.text})
			if err != nil {
				return nil, nil, 0, err
			}
			left += len(k)
			keep = append(keep, k...)
			continue
		}
		k, err := filter(it.members)
		if err != nil {
			return nil, nil, 0, err
		}
		left += len(k)
		if len(k) == 0 && len(it.members) > 0 {
			continue // every member removed: the group name alone says nothing useful
		}
		if len(k) == 0 {
			keep = append(keep, it.text+":;")
		} else {
			keep = append(keep, it.text+": "+strings.Join(k, ", ")+";")
		}
	}
	if len(moved) == 0 {
		return &f, nil, left, nil
	}
	if len(keep) == 0 {
		return nil, moved, 0, nil
	}
	return &field{name: f.name, raw: []byte(foldList(f.name, keep, eol))}, moved, left, nil
}

// foldList formats "Name: a, b, c" folding between elements so that lines
// stay under 78 characters where the elements allow (RFC 5322 §2.1.1).
// Elements keep their own internal folding.
func foldList(name string, elems []string, eol string) string {
	const limit = 78
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(":")
	lineLen := len(name) + 1
	for i, e := range elems {
		e = strings.TrimSpace(strings.ReplaceAll(e, "\r\n", eol))
		first := e
		if j := strings.Index(e, eol); j >= 0 {
			first = e[:j]
		}
		sep := ""
		if i > 0 {
			sep = ","
		}
		trail := 0
		if i < len(elems)-1 {
			trail = 1 // the comma that will follow
		}
		if i > 0 && lineLen+len(sep)+1+len(first)+trail > limit {
			b.WriteString(sep + eol + " ")
			lineLen = 1
		} else {
			b.WriteString(sep + " ")
			lineLen += len(sep) + 1
		}
		b.WriteString(e)
		if j := strings.LastIndex(e, eol); j >= 0 {
			lineLen = len(e) - j - len(eol)
		} else {
			lineLen += len(e)
		}
	}
	b.WriteString(eol)
	return b.String()
}
