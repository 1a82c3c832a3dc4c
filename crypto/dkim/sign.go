package dkim

import (
	"bufio"
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"sort"
	"strings"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// DefaultHeaders are the fields signed when a domain lists none (RFC 6376
// §5.4.1). The fields whose change would alter what a reader sees are
// listed twice: the second, absent instance "oversigns" them, so a field
// added later (a second From, Subject, ...) breaks the signature.
var DefaultHeaders = []string{
	"From", "From", "Reply-To", "Reply-To", "Subject", "Subject", "Date", "Date",
	"To", "To", "Cc", "Cc", "Message-ID", "Message-ID",
	"In-Reply-To", "References", "Sender", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
	"MIME-Version", "MIME-Version", "Content-Type", "Content-Type",
	"Content-Transfer-Encoding", "Content-Transfer-Encoding", "Content-Disposition", "Content-Language",
}

// ErrUnsignable reports a message that cannot be signed whatever the
// retries (a header beyond maxHeaderBytes): send it unsigned rather than
// hold it until it expires.
var ErrUnsignable = errors.New("message cannot be signed")

// maxHeaderBytes bounds the header read before the From domain is known.
const maxHeaderBytes = 1 << 20

// Domain is one signing domain as configured.
type Domain struct {
	Name     string   // d=, e.g. example.com
	Selector string   // s=, the DNS name is SELECTOR._domainkey.NAME
	KeyFile  string   // PEM private key (RSA ≥ 2048 bits or Ed25519)
	Headers  []string // h=; nil means DefaultHeaders
}

type domainKey struct {
	name, selector string
	key            crypto.Signer
	headers        []string
}

// Signer signs messages for its configured domains. It is immutable and
// safe for concurrent use.
type Signer struct {
	byDomain map[string]*domainKey
}

// New reads and checks every domain's key and returns a Signer, or an
// error listing every problem at once.
func New(domains []Domain) (*Signer, error) {
	s := &Signer{byDomain: map[string]*domainKey{}}
	var errs []error
	for _, d := range domains {
		name := normDomain(d.Name)
		if name == "" || !strings.Contains(name, ".") {
			errs = append(errs, fmt.Errorf("dkim domain %q: not a domain name", d.Name))
			continue
		}
		if _, dup := s.byDomain[name]; dup {
			errs = append(errs, fmt.Errorf("dkim domain %s: configured twice", name))
			continue
		}
		if err := CheckSelector(d.Selector); err != nil {
			errs = append(errs, fmt.Errorf("dkim domain %s: %w", name, err))
		}
		headers := d.Headers
		if headers == nil {
			headers = DefaultHeaders
		}
		if err := CheckHeaders(headers); err != nil {
			errs = append(errs, fmt.Errorf("dkim domain %s: %w", name, err))
		}
		key, err := LoadKey(d.KeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("dkim domain %s: %w", name, err))
			continue
		}
		s.byDomain[name] = &domainKey{name: name, selector: d.Selector, key: key, headers: headers}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// CheckSelector checks a selector is a DNS label sequence.
func CheckSelector(sel string) error {
	if sel == "" {
		return errors.New("selector must not be empty")
	}
	for _, l := range strings.Split(sel, ".") {
		if l == "" || len(l) > 63 || strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return fmt.Errorf("selector %q is not a DNS name", sel)
		}
	}
	return nil
}

// CheckHeaders checks a signed-headers list: From is required (RFC 6376
// §5.4) and names must be header field names.
func CheckHeaders(h []string) error {
	from := false
	for _, k := range h {
		if k == "" || strings.ContainsAny(k, ": \t\r\n") {
			return fmt.Errorf("header %q is not a field name", k)
		}
		if strings.EqualFold(k, "From") {
			from = true
		}
		if strings.EqualFold(k, "DKIM-Signature") || strings.EqualFold(k, "Received") || strings.EqualFold(k, "Return-Path") {
			return fmt.Errorf("header %s must not be signed (it changes in transit)", k)
		}
	}
	if !from {
		return errors.New("signed headers must include From")
	}
	return nil
}

// Domains lists the configured domains, sorted.
func (s *Signer) Domains() []string {
	out := make([]string, 0, len(s.byDomain))
	for d := range s.byDomain {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Opener opens a message for one read.
type Opener func() (io.ReadCloser, error)

// Wrap returns an opener that yields the message of open with a
// DKIM-Signature field in front, and the number of bytes it adds. The
// message is read once here to compute the signature and again by each
// use of the returned opener. A message without a configured From domain
// is returned as is (open, 0).
func (s *Signer) Wrap(open Opener) (Opener, int64, error) {
	r, err := open()
	if err != nil {
		return nil, 0, fmt.Errorf("open message: %w", err)
	}
	field, err := s.Signature(r)
	r.Close()
	if err != nil {
		return nil, 0, err
	}
	if field == "" {
		return open, 0, nil
	}
	return func() (io.ReadCloser, error) {
		body, err := open()
		if err != nil {
			return nil, err
		}
		return prefixed{Reader: io.MultiReader(strings.NewReader(field), body), c: body}, nil
	}, int64(len(field)), nil
}

type prefixed struct {
	io.Reader
	c io.Closer
}

func (p prefixed) Close() error { return p.c.Close() }

// Signature reads a whole message and returns the DKIM-Signature header
// field (with its final CRLF) to prepend, or "" when the From domain is
// not configured.
func (s *Signer) Signature(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	hdr, err := readHeader(br)
	if err != nil {
		return "", err
	}
	dk := s.lookup(fromDomain(hdr))
	if dk == nil {
		return "", nil
	}
	sg, err := msgauth.NewSigner(&msgauth.SignOptions{
		Domain:                 dk.name,
		Selector:               dk.selector,
		Signer:                 dk.key,
		HeaderCanonicalization: msgauth.CanonicalizationRelaxed,
		BodyCanonicalization:   msgauth.CanonicalizationRelaxed,
		HeaderKeys:             dk.headers,
	})
	if err != nil {
		return "", fmt.Errorf("dkim %s: %w", dk.name, err)
	}
	if _, err := sg.Write(hdr); err != nil {
		sg.Close()
		return "", fmt.Errorf("dkim %s: hash header: %w", dk.name, err)
	}
	if _, err := io.Copy(sg, br); err != nil {
		sg.Close()
		return "", fmt.Errorf("dkim %s: read message: %w", dk.name, err)
	}
	if err := sg.Close(); err != nil {
		return "", fmt.Errorf("dkim %s: sign: %w", dk.name, err)
	}
	return sg.Signature(), nil
}

// lookup finds the key of domain or of its closest configured parent.
func (s *Signer) lookup(domain string) *domainKey {
	for d := domain; strings.Contains(d, "."); {
		if dk, ok := s.byDomain[d]; ok {
			return dk
		}
		_, d, _ = strings.Cut(d, ".")
	}
	return nil
}

// readHeader returns the header section including the empty line that
// ends it (or everything, for a message without a body).
func readHeader(br *bufio.Reader) ([]byte, error) {
	var hdr []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			hdr = append(hdr, line...)
		} else {
			hdr = append(hdr, line...)
			if err == io.EOF {
				return hdr, nil
			}
			if err != nil {
				return nil, fmt.Errorf("read header: %w", err)
			}
			if len(line) <= 2 && strings.TrimRight(string(line), "\r\n") == "" {
				return hdr, nil
			}
		}
		if len(hdr) > maxHeaderBytes {
			return nil, fmt.Errorf("%w: header longer than %d bytes", ErrUnsignable, maxHeaderBytes)
		}
	}
}

// addrParser reads addresses whatever the charset of their display names:
// only the domain matters here.
var addrParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// fromDomain returns the lower-case domain of the first From address, or
// "".
func fromDomain(hdr []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(hdr))
	if err != nil {
		return ""
	}
	list, err := addrParser.ParseList(m.Header.Get("From"))
	if err != nil || len(list) == 0 {
		return ""
	}
	at := strings.LastIndexByte(list[0].Address, '@')
	if at < 0 {
		return ""
	}
	return normDomain(list[0].Address[at+1:])
}

func normDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}
