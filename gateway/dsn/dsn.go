package dsn

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"time"

	"github.com/sendguard/sendguard/notify/compose"
	"github.com/sendguard/sendguard/templates/i18n"
)

// Action is the RFC 3464 §2.3.3 action of one recipient.
type Action string

// Actions a DSN from sendguard reports.
const (
	Failed  Action = "failed"
	Delayed Action = "delayed"
)

// Return values of Params.Return (the RET parameter, RFC 3461 §4.3).
const (
	ReturnHeaders = "HDRS"
	ReturnFull    = "FULL"
)

// Limits applied when Params leaves them zero.
const (
	DefaultMaxFull        = 10 << 20
	DefaultMaxHeaderBytes = 64 << 10
)

// Recipient is the status of one recipient.
type Recipient struct {
	Final    string // the address delivery was attempted to
	Original string // ORCPT address (rfc822 type), "" if none was given
	Action   Action
	Status   string // RFC 3463 code, e.g. "5.1.1"; class 5 for failed, 4 for delayed
	// Diagnostic is the peer's reply, e.g. "550 5.1.1 no such user", or ""
	// when the failure was local (then Reason explains it).
	Diagnostic     string
	Reason         string // local explanation, e.g. "null MX", shown in the text part
	RemoteMTA      string // peer host name or "name[ip]", "" if none was reached
	LastAttempt    time.Time
	WillRetryUntil time.Time // delayed: when sendguard gives up
}

// Params describes one DSN.
type Params struct {
	ReportingMTA string    // our host name (Reporting-MTA, MAILER-DAEMON@ReportingMTA)
	To           string    // the original envelope sender, to whom the DSN goes
	QueueID      string    // our queue id, shown to help the postmaster
	EnvID        string    // ENVID of the original, if any
	ArrivalDate  time.Time // when we accepted the original
	Date         time.Time // of this report; zero means now
	MessageID    string    // of this report, without <>; "" means random
	Recipients   []Recipient
	// Original is the original message (headers and body); Return is its
	// RET parameter. Only RET=FULL returns the body.
	Original       io.Reader
	Return         string
	MaxFull        int64 // largest original returned in full
	MaxHeaderBytes int   // largest header block returned
	// Language leads the human-readable part and the Subject (config
	// default_language); "" means Japanese first. The machine-readable
	// part is the same in every language.
	Language string
	// Location is the zone of times in the human-readable part (config
	// time_zone); nil writes them as given.
	Location *time.Location
}

// ShouldBounce reports whether a DSN may be sent to mailFrom: never to the
// null sender (RFC 5321 §4.5.5) nor to a mailer daemon.
func ShouldBounce(mailFrom string) bool {
	a := strings.TrimSpace(mailFrom)
	a = strings.TrimSuffix(strings.TrimPrefix(a, "<"), ">")
	if a == "" {
		return false
	}
	local := a
	if at := strings.LastIndexByte(a, '@'); at >= 0 {
		local = a[:at]
	}
	switch strings.ToLower(local) {
	case "mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "maildaemon":
		return false
	}
	return true
}

// Build renders the DSN as a complete message with CRLF line ends, ready
// to be sent with MAIL FROM:<> to p.To.
func Build(p Params) ([]byte, error) {
	if p.ReportingMTA == "" || p.To == "" || len(p.Recipients) == 0 {
		return nil, errors.New("dsn: ReportingMTA, To and Recipients are required")
	}
	for _, r := range p.Recipients {
		if r.Action != Failed && r.Action != Delayed {
			return nil, fmt.Errorf("dsn: recipient action %q", r.Action)
		}
	}
	if p.Date.IsZero() {
		p.Date = time.Now()
	}
	if p.MessageID == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("dsn: message id: %w", err)
		}
		p.MessageID = hex.EncodeToString(b[:]) + "@" + cleanHost(p.ReportingMTA)
	}
	if p.MaxFull <= 0 {
		p.MaxFull = DefaultMaxFull
	}
	if p.MaxHeaderBytes <= 0 {
		p.MaxHeaderBytes = DefaultMaxHeaderBytes
	}

	orig, full, truncated, err := readOriginal(p)
	if err != nil {
		return nil, err
	}
	text := humanText(p, truncated)
	status := statusPart(p)
	parts := [][]byte{text, status, orig}
	boundary := pickBoundary(p.MessageID, parts)

	var b bytes.Buffer
	writeTopHeaders(&b, p, orig, full, boundary)
	b.WriteString("This is a MIME-encapsulated message.\r\n\r\n")

	fmt.Fprintf(&b, "--%s\r\n", boundary)
	b.WriteString("Content-Type: text/plain; charset=UTF-8\r\n")
	b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n")
	b.WriteString("Content-Description: Notification\r\n\r\n")
	b.Write(text)

	fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
	if needsUTF8(p) {
		b.WriteString("Content-Type: message/global-delivery-status\r\n")
	} else {
		b.WriteString("Content-Type: message/delivery-status\r\n")
	}
	b.WriteString("Content-Description: Delivery report\r\n\r\n")
	b.Write(status)

	fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
	if full {
		b.WriteString("Content-Type: message/rfc822\r\n")
		b.WriteString("Content-Description: Undelivered message\r\n")
	} else {
		b.WriteString("Content-Type: text/rfc822-headers\r\n")
		b.WriteString("Content-Description: Undelivered message headers\r\n")
	}
	if !isASCII(orig) {
		b.WriteString("Content-Transfer-Encoding: 8bit\r\n")
	}
	b.WriteString("\r\n")
	b.Write(orig)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), nil
}

func failedAny(p Params) bool {
	for _, r := range p.Recipients {
		if r.Action == Failed {
			return true
		}
	}
	return false
}

func writeTopHeaders(b *bytes.Buffer, p Params, orig []byte, full bool, boundary string) {
	mta := cleanHost(p.ReportingMTA)
	cat := i18n.MustLoad()
	key := "mail.dsn.delayed.subject"
	if failedAny(p) {
		key = "mail.dsn.failed.subject"
	}
	var titles []string
	for _, l := range i18n.Ordered(p.Language) {
		titles = append(titles, cat.T(l, key))
	}
	fmt.Fprintf(b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", cleanAddr(mta))
	fmt.Fprintf(b, "To: <%s>\r\n", cleanAddr(p.To))
	fmt.Fprintf(b, "Subject: %s\r\n", compose.EncodeWords(strings.Join(titles, " / ")))
	fmt.Fprintf(b, "Date: %s\r\n", p.Date.Format(time.RFC1123Z))
	fmt.Fprintf(b, "Message-ID: <%s>\r\n", cleanAddr(p.MessageID))
	if id := originalMessageID(orig); id != "" {
		fmt.Fprintf(b, "In-Reply-To: %s\r\nReferences: %s\r\n", id, id)
	}
	b.WriteString("Auto-Submitted: auto-replied\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")
	fmt.Fprintf(b, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
}

// statusPart renders the message/delivery-status body (RFC 3464 §2.2, §2.3).
func statusPart(p Params) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\n", cleanHost(p.ReportingMTA))
	if p.QueueID != "" {
		fmt.Fprintf(&b, "X-Sendguard-Queue-ID: %s\r\n", cleanHost(p.QueueID))
	}
	if p.EnvID != "" {
		fmt.Fprintf(&b, "Original-Envelope-Id: %s\r\n", cleanHost(p.EnvID))
	}
	if !p.ArrivalDate.IsZero() {
		fmt.Fprintf(&b, "Arrival-Date: %s\r\n", p.ArrivalDate.Format(time.RFC1123Z))
	}
	for _, r := range p.Recipients {
		b.WriteString("\r\n")
		if r.Original != "" {
			fmt.Fprintf(&b, "Original-Recipient: %s; %s\r\n", addrType(r.Original), cleanAddr(r.Original))
		}
		fmt.Fprintf(&b, "Final-Recipient: %s; %s\r\n", addrType(r.Final), cleanAddr(r.Final))
		fmt.Fprintf(&b, "Action: %s\r\n", r.Action)
		fmt.Fprintf(&b, "Status: %s\r\n", statusCode(r))
		if name := remoteName(r.RemoteMTA); name != "" {
			fmt.Fprintf(&b, "Remote-MTA: dns; %s\r\n", name)
		}
		if r.Diagnostic != "" {
			fmt.Fprintf(&b, "Diagnostic-Code: smtp; %s\r\n", limit(clean(r.Diagnostic), 900))
		}
		if !r.LastAttempt.IsZero() {
			fmt.Fprintf(&b, "Last-Attempt-Date: %s\r\n", r.LastAttempt.Format(time.RFC1123Z))
		}
		if r.Action == Delayed && !r.WillRetryUntil.IsZero() {
			fmt.Fprintf(&b, "Will-Retry-Until: %s\r\n", r.WillRetryUntil.Format(time.RFC1123Z))
		}
	}
	return b.Bytes()
}

// remoteName is the host name of "name[ip]" (the form outbound reports);
// the address stays in the text part only.
func remoteName(s string) string {
	s = cleanHost(s)
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		return s[:i]
	}
	return s
}

// Diagnostic formats an SMTP reply for Recipient.Diagnostic.
func Diagnostic(code int, enhanced, text string) string {
	return clean(strings.TrimSpace(fmt.Sprintf("%d %s %s", code, enhanced, text)))
}

// statusCode returns a valid RFC 3463 code for r: its own when well formed,
// else the generic one for its action.
func statusCode(r Recipient) string {
	var a, b, c int
	s := strings.TrimSpace(r.Status)
	if n, _ := fmt.Sscanf(s, "%d.%d.%d", &a, &b, &c); n == 3 && s == fmt.Sprintf("%d.%d.%d", a, b, c) &&
		(a == 4 || a == 5) && b >= 0 && b < 1000 && c >= 0 && c < 1000 {
		return s
	}
	if r.Action == Delayed {
		return "4.0.0"
	}
	return "5.0.0"
}

// humanText is the notification people read, quoted-printable encoded:
// every language of the catalog (keys mail.dsn.*), p.Language first.
func humanText(p Params, truncated bool) []byte {
	cat := i18n.MustLoad()
	langs := i18n.Ordered(p.Language)
	// all joins one key's text in every language: "配信不能 / failed".
	all := func(key string) string {
		var out []string
		for _, l := range langs {
			out = append(out, cat.T(l, key))
		}
		return strings.Join(out, " / ")
	}
	var t strings.Builder
	mta := cleanHost(p.ReportingMTA)
	body := "mail.dsn.delayed.body"
	if failedAny(p) {
		body = "mail.dsn.failed.body"
	}
	for _, l := range langs {
		fmt.Fprintf(&t, "%s\n%s\n\n", cat.T(l, "mail.dsn.intro", mta), cat.T(l, body))
	}
	for _, r := range p.Recipients {
		fmt.Fprintf(&t, "<%s>: %s\n", cleanAddr(r.Final), all("mail.dsn."+string(r.Action)+".status"))
		detail := r.Diagnostic
		if detail == "" {
			detail = r.Reason
		}
		if detail != "" {
			fmt.Fprintf(&t, "    %s\n", limit(clean(detail), 900))
		}
		if r.RemoteMTA != "" {
			fmt.Fprintf(&t, "    (%s)\n", cleanHost(r.RemoteMTA))
		}
		if r.Action == Delayed && !r.WillRetryUntil.IsZero() {
			until := r.WillRetryUntil
			if p.Location != nil {
				until = until.In(p.Location)
			}
			fmt.Fprintf(&t, "    %s: %s\n", all("mail.dsn.retry_until"), until.Format(time.RFC1123Z))
		}
	}
	if truncated {
		t.WriteString("\n")
		for _, l := range langs {
			t.WriteString(cat.T(l, "mail.dsn.truncated") + "\n")
		}
	}
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	// Line ends are written as CRLF: quotedprintable keeps them as hard breaks.
	_, _ = io.WriteString(w, strings.ReplaceAll(t.String(), "\n", "\r\n"))
	_ = w.Close()
	return b.Bytes()
}

// readOriginal returns what is attached of the original: the whole message
// when RET=FULL and it fits, else its headers. Line ends become CRLF.
func readOriginal(p Params) (data []byte, full, truncated bool, err error) {
	if p.Original == nil {
		return []byte{}, false, false, nil
	}
	if strings.EqualFold(p.Return, ReturnFull) {
		buf, err := io.ReadAll(io.LimitReader(p.Original, p.MaxFull+1))
		if err != nil {
			return nil, false, false, fmt.Errorf("dsn: read original: %w", err)
		}
		if int64(len(buf)) <= p.MaxFull {
			return toCRLF(buf), true, false, nil
		}
		h, err := headers(bytes.NewReader(buf), p.MaxHeaderBytes)
		return h, false, true, err
	}
	h, err := headers(p.Original, p.MaxHeaderBytes)
	return h, false, false, err
}

// headers reads the header block (up to the blank line), cut at a line
// boundary after max bytes.
func headers(r io.Reader, max int) ([]byte, error) {
	br := bufio.NewReader(io.LimitReader(r, int64(max)+1))
	var out bytes.Buffer
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && err == nil {
			trimmed := bytes.TrimRight(line, "\r\n")
			if len(trimmed) == 0 {
				break
			}
			if out.Len()+len(trimmed)+2 > max {
				break
			}
			out.Write(trimmed)
			out.WriteString("\r\n")
		}
		if errors.Is(err, io.EOF) {
			// A last line without newline is kept only if the input ended
			// there (not cut by the limit).
			if t := bytes.TrimRight(line, "\r"); len(t) > 0 && out.Len()+len(t)+2 <= max {
				out.Write(t)
				out.WriteString("\r\n")
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("dsn: read original headers: %w", err)
		}
	}
	return out.Bytes(), nil
}

// toCRLF turns bare LF and bare CR into CRLF.
func toCRLF(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/50)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			out.WriteString("\r\n")
			i++
		case c == '\r' || c == '\n':
			out.WriteString("\r\n")
		default:
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

// originalMessageID returns the original's Message-ID field value if it
// looks like one.
func originalMessageID(hdr []byte) string {
	for _, line := range strings.Split(string(hdr), "\r\n") {
		if name, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Message-ID") {
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") && !strings.ContainsAny(v, " \t") && len(v) < 250 {
				return clean(v)
			}
			return ""
		}
		if line == "" {
			break
		}
	}
	return ""
}

// pickBoundary derives a boundary from the message id and makes sure no
// part contains it.
func pickBoundary(msgID string, parts [][]byte) string {
	for i := 0; ; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", msgID, i))
		b := "=_sendguard_dsn_" + hex.EncodeToString(sum[:12])
		clash := false
		for _, p := range parts {
			if bytes.Contains(p, []byte(b)) {
				clash = true
				break
			}
		}
		if !clash {
			return b
		}
	}
}

func needsUTF8(p Params) bool {
	for _, r := range p.Recipients {
		if !isASCII([]byte(r.Final)) || !isASCII([]byte(r.Original)) {
			return true
		}
	}
	return false
}

// addrType is the RFC 3464 / RFC 6533 address type for a.
func addrType(a string) string {
	if isASCII([]byte(a)) {
		return "rfc822"
	}
	return "utf-8"
}

// clean makes s safe for one header or status field line: CR, LF and tabs
// become spaces, other control characters are dropped.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// cleanAddr is clean for an address that goes inside <...>, bounded so
// that no field line nears the 998-byte limit (RFC 5322 §2.1.1).
func cleanAddr(s string) string {
	a := strings.NewReplacer("<", "", ">", "", " ", "").Replace(clean(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">")))
	return limit(a, 400)
}

// cleanHost is clean for a host name or id field.
func cleanHost(s string) string { return limit(clean(s), 255) }

func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
