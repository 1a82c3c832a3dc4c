package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
	"github.com/jhillyerd/enmime/v2"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/spool"
)

// maxBodyText bounds the body text shown on the message page.
const maxBodyText = 256 << 10

// headerField is one header line, decoded for display.
type headerField struct{ Name, Value string }

// partInfo is a downloadable part of the spooled message.
type partInfo struct {
	N    int
	Name string
	Type string
	Size int
}

// parsedBody is what the message page shows from the spooled bytes.
type parsedBody struct {
	Headers   []headerField
	Text      string
	Truncated bool
	Parts     []partInfo
	HasHTML   bool
	Problem   string // catalog key when the body could not be read
}

type rcptGroup struct {
	Key  string // catalog key suffix: internal, external, lookalike
	List []rules.Recipient
}

type messageView struct {
	Rec       *hold.Record
	Report    rules.Report
	HasReport bool
	Env       *spool.Record
	Body      parsedBody
	Groups    []rcptGroup
	Lookalike map[string]string // address → domain it resembles
	Events    []hold.Event
	Held      bool
	ReasonMax int
	// Sent: the message was released and delivered, so the incident
	// kit applies.
	Sent bool
}

func (h *Handler) messagePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	rec, err := h.getRecord(r.Context(), id)
	spoolOnly := errors.Is(err, hold.ErrNotFound)
	if spoolOnly {
		// Never held (queued, delivered, bounced): the spool's record
		// answers for the queue ID a log line or the CLI names.
		rec, err = h.spoolOnly(id)
	}
	if err != nil {
		h.getFailed(w, r, rc, err)
		return
	}
	v := messageView{Rec: rec, Held: rec.State == hold.StateHeld && !spoolOnly, ReasonMax: maxReason, Lookalike: map[string]string{}}
	if h.kit != nil && rec.State == hold.StateReleased {
		_, err := h.kit.Store.Get(r.Context(), id)
		v.Sent = err == nil
	}
	if len(rec.Report) > 0 && json.Unmarshal(rec.Report, &v.Report) == nil {
		v.HasReport = true
	}
	for _, l := range v.Report.Recipients.Lookalike {
		v.Lookalike[strings.ToLower(l.Address)] = l.Resembles
	}
	v.Groups = h.groupRecipients(&v)
	if h.spool != nil {
		if env, err := h.spool.Get(id); err == nil {
			v.Env = env
		}
	}
	v.Body = h.readBody(r.Context(), id)
	if v.Events, err = h.events(r.Context(), id); err != nil {
		h.log.Error("read events", "id", id, "err", err)
	}
	d := h.newPage(r, rc, "msg.title", "queue")
	switch r.URL.Query().Get("done") {
	case "released":
		d.Notice = "msg.released"
	case "rejected":
		d.Notice = "msg.rejected"
	}
	if e := r.URL.Query().Get("err"); e == "reason" {
		d.Error = "msg.reason_required"
	}
	d.D = v
	if v.Body.HasHTML {
		w.Header().Set("Content-Security-Policy", cspMessage)
	}
	h.render(w, http.StatusOK, "message", d)
}

func (h *Handler) getFailed(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	if errors.Is(err, hold.ErrNotFound) || errors.Is(err, hold.ErrInvalid) {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	h.log.Error("get held message", "err", err)
	h.fail(w, r, rc, http.StatusInternalServerError, "error.internal")
}

// groupRecipients sorts the report's recipients into internal, external
// and look-alike; without a report it falls back to the envelope.
func (h *Handler) groupRecipients(v *messageView) []rcptGroup {
	var in, ex, look []rules.Recipient
	list := v.Report.Recipients.List
	if len(list) == 0 && h.spool != nil {
		if env, err := h.spool.Get(v.Rec.ID); err == nil {
			for _, rc := range env.Rcpts {
				dom := rc.Addr[strings.LastIndexByte(rc.Addr, '@')+1:]
				list = append(list, rules.Recipient{Address: rc.Addr, Field: "bcc", Domain: dom,
					External: !h.intern[strings.ToLower(dom)], Envelope: true})
			}
		}
	}
	for _, rcpt := range list {
		switch {
		case v.Lookalike[strings.ToLower(rcpt.Address)] != "":
			look = append(look, rcpt)
		case rcpt.External:
			ex = append(ex, rcpt)
		default:
			in = append(in, rcpt)
		}
	}
	var out []rcptGroup
	for _, g := range []rcptGroup{{"lookalike", look}, {"external", ex}, {"internal", in}} {
		if len(g.List) > 0 {
			out = append(out, g)
		}
	}
	return out
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	return v
}

// readBody reads the headers and a text rendering of the spooled message.
// Everything here is attacker-controlled: it is only ever shown escaped.
func (h *Handler) readBody(ctx context.Context, id string) parsedBody {
	var pb parsedBody
	f, size, err := h.openBody(ctx, id)
	if err != nil {
		pb.Problem = "msg.no_body"
		return pb
	}
	defer f.Close()
	hdr, err := textproto.ReadHeader(bufio.NewReader(io.LimitReader(f, 256<<10)))
	if err != nil {
		pb.Problem = "msg.bad_body"
	}
	for fs := hdr.Fields(); fs.Next(); {
		pb.Headers = append(pb.Headers, headerField{Name: printable(fs.Key(), 100), Value: decodeHeader(fs.Value())})
	}
	if size > defaultMaxBodyParse {
		pb.Problem = "msg.too_large"
		return pb
	}
	env, perr := h.parseSpooled(f)
	if perr != nil {
		pb.Problem = "msg.bad_body"
		return pb
	}
	text := env.Text
	if len(text) > maxBodyText {
		text, pb.Truncated = strings.ToValidUTF8(text[:maxBodyText], ""), true
	}
	pb.Text = strings.ReplaceAll(text, "\r\n", "\n")
	pb.HasHTML = env.HTML != ""
	for i, p := range parts(env) {
		pb.Parts = append(pb.Parts, partInfo{N: i, Name: printable(p.FileName, 200), Type: p.ContentType, Size: len(p.Content)})
	}
	return pb
}

func (h *Handler) parseSpooled(f io.ReadSeeker) (*enmime.Envelope, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return enmime.ReadEnvelope(io.LimitReader(f, defaultMaxBodyParse))
}

// rfc5987 percent-encodes a file name for filename*= (RFC 8187): every
// byte but attr-char.
func rfc5987(s string) string {
	const attr = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attr, c) >= 0) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func parts(env *enmime.Envelope) []*enmime.Part {
	return append(append([]*enmime.Part(nil), env.Attachments...), env.Inlines...)
}

// attachment sends one part of a held message to an admin as a download
// (never rendered inline) and records it in the audit log.
func (h *Handler) attachment(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	n, err := strconv.Atoi(r.PathValue("n"))
	if _, gerr := h.getRecord(r.Context(), id); gerr != nil || err != nil {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	f, _, err := h.openBody(r.Context(), id)
	if err != nil {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	defer f.Close()
	env, err := h.parseSpooled(f)
	ps := []*enmime.Part(nil)
	if err == nil {
		ps = parts(env)
	}
	if n < 0 || n >= len(ps) {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	p := ps[n]
	name := printable(p.FileName, 200)
	if name == "" {
		name = fmt.Sprintf("part-%d.bin", n)
	}
	h.audit(r, hold.Event{MessageID: id, Actor: rc.actor, Action: auditDownload, Reason: name})
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Disposition", "attachment; filename=\"download.bin\"; filename*=UTF-8''"+rfc5987(name))
	hd.Set("Content-Length", strconv.Itoa(len(p.Content)))
	_, _ = w.Write(p.Content)
}
