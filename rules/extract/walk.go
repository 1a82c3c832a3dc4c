package extract

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/sendguard/sendguard/rules"
)

// Part is one body text or one attachment, as handed to Walk's callback.
// The callback must not keep Text beyond its return unless it copies it;
// Attachment may be kept.
type Part struct {
	// Location is "body" or "attachment:NAME", with "/INNER" appended for
	// files inside archives and attached messages (design.md).
	Location string
	// Attachment describes the file; nil for body text.
	Attachment *rules.Attachment
	// ContentType is the media type the text was read as (sniffed for
	// attachments, declared for body parts).
	ContentType string
	// Charset is the encoding the text was decoded from, if any.
	Charset string
	// Text is the part's content as UTF-8, at most Limits.MaxPartText bytes.
	// It is nil under WalkStream, which writes the text to Sink instead.
	Text []byte
	// Sink is the writer WalkStream's OpenFunc returned for this part: it
	// has received the whole text by the time the part is yielded. Nil
	// under Walk, for a part without text, or when OpenFunc returned nil.
	Sink io.Writer
	// Truncated is set when Text was cut at Limits.MaxPartText.
	Truncated bool
	// Tabular is set for CSV/TSV/spreadsheet text: one record per line,
	// cells separated by tabs or commas.
	Tabular bool
	// Unscannable, when not empty, says why the part's content could not
	// be read (it equals Attachment.Unscannable for attachments).
	Unscannable string
	// Properties are a document's human-written properties (title,
	// subject, keywords, sensitivity label, sheet names), one per line:
	// text that belongs to the attachment but not to its body.
	Properties []byte

	streamErr error  // the sink's first write error
	hash      uint64 // textHash of streamed body text
	hashed    bool
}

// Message holds the top-level header facts of the walked message.
type Message struct {
	// Header is the top-level header, for address parsing
	// (Header.AddressList("To")).
	Header mail.Header
	// Subject is the decoded Subject.
	Subject string
	// From, To and Cc are the raw (unfolded, undecoded) address lists;
	// several fields of one name are joined with ", ".
	From, To, Cc string
	MessageID    string
	// Size is the number of message bytes read.
	Size int64
	// Parts counts the parts yielded.
	Parts int
	// Incomplete is set when a limit (time, entries) stopped the walk
	// before the end of the message.
	Incomplete bool
	// AttachmentsHashed is set when the top-level attachments with an
	// Attachment.SHA256 are, in order, exactly the files go-message finds
	// in the message (stdfile.go): every part of the top-level MIME tree
	// that names a file (FileName), with that name, its media type as
	// go-message parses it (DeclaredType), and the size and hash of its
	// body as go-message decodes it. Unset whenever the walk cannot
	// vouch for that (a broken structure, corrupt or quoted-printable
	// encoding, a charset go-message would convert, names read
	// differently, a limit).
	AttachmentsHashed bool
	// Errors are problems met while reading; they never stop the walk.
	Errors []string
}

// maxErrors caps Message.Errors so hostile input cannot grow it unbounded.
const maxErrors = 200

// maxMIMENesting caps multipart nesting, independent of archive depth.
const maxMIMENesting = 32

// errStop unwinds the walk when a global limit is reached; it is recorded,
// not returned.
var errStop = errors.New("walk stopped")

// callbackError carries an error returned by the caller's function.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }
func (e callbackError) Unwrap() error { return e.err }

// Walk reads the message from r and calls fn for every body part and
// attachment. Problems in the message are recorded in Message.Errors and
// never returned; Walk returns an error only when fn does (that error,
// wrapped) or when ctx is cancelled by the caller. The Message is returned
// in every case with what was read.
func Walk(ctx context.Context, r io.Reader, lim Limits, fn func(p *Part) error) (*Message, error) {
	return walk(ctx, r, lim, nil, fn)
}

// WalkStream is Walk with each part's text written, as it is decoded, to
// the writer open returns for the part (Part.Sink) instead of being held
// in Part.Text: memory is a window of about 64 KiB per part in reading
// plus what the writer keeps, whatever the size of the text. The text is
// the same as Walk's, in the same order; open is called at the part's
// first piece of text, before fn is called with the part. A part whose
// text ends up shorter than a window (most body texts) is written in one
// piece. An error from the writer stops the walk like one from fn.
func WalkStream(ctx context.Context, r io.Reader, lim Limits, open OpenFunc, fn func(p *Part) error) (*Message, error) {
	if open == nil {
		return nil, errors.New("extract: WalkStream without an OpenFunc")
	}
	return walk(ctx, r, lim, open, fn)
}

// msgReaders buffer the message as walked (32 KiB, one per walk).
var msgReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

func walk(ctx context.Context, r io.Reader, lim Limits, open OpenFunc, fn func(p *Part) error) (*Message, error) {
	lim = lim.withDefaults()
	wctx, cancel := walkContext(ctx, lim.Timeout)
	defer cancel()
	w := &walker{ctx: wctx, lim: lim, fn: fn, open: open, msg: &Message{}, seen: map[string]bool{}, seenText: map[uint64]bool{},
		stdMiss: !hashFiles}
	src := newReplay(r, lim.MaxFallback)
	cr := &ctxReader{ctx: wctx, r: src}
	br := msgReaders.Get().(*bufio.Reader)
	br.Reset(cr)
	defer func() { br.Reset(nil); msgReaders.Put(br) }()
	h, pre := w.readHeader(br, "")
	if len(w.msg.Errors) > 0 || repeatsContentFields(h) {
		w.notHashed() // go-message does not read this header, or reads it otherwise
	}
	w.msg.Header = mail.Header{Header: messageHeader(h)}
	w.fillMessage(h)
	err := w.entity(h, withPrefix(pre, br), scope{bodyLoc: "body"}, 0)
	if err == nil {
		// the rest (an epilogue, or what a broken structure hid) still
		// counts towards the size and the tolerant re-read
		_, _ = io.Copy(io.Discard, br)
	}
	w.msg.Size = cr.n
	if err == nil && w.broken && wctx.Err() == nil {
		err = w.fallback(src)
	}
	var cb callbackError
	switch {
	case errors.As(err, &cb):
		return w.msg, fmt.Errorf("extract callback: %w", cb.err)
	case ctx.Err() != nil:
		return w.msg, fmt.Errorf("extract: %w", ctx.Err())
	case errors.Is(err, errStop):
		w.msg.Incomplete = true
	case err != nil:
		w.msg.Incomplete = true
		w.errorf("", "%v", err)
	}
	if !w.msg.Incomplete && wctx.Err() != nil {
		w.msg.Incomplete = true
		w.errorf("", "time limit exceeded")
	}
	w.msg.AttachmentsHashed = !w.stdMiss && !w.broken && !w.msg.Incomplete
	return w.msg, nil
}

// arrivingKey marks a context whose walk reads a message still arriving.
type arrivingKey struct{}

// ArrivingInput marks ctx for the walk of a message that is still
// arriving, read as it is written: the walk's Timeout counts from the
// moment complete is closed (the last byte is in), not from its start, so
// that a slow sender's transfer is not charged to the analysis.
func ArrivingInput(ctx context.Context, complete <-chan struct{}) context.Context {
	return context.WithValue(ctx, arrivingKey{}, complete)
}

// walkContext is the walk's context, which ends at its time limit: timeout
// from now, or from the end of an arriving input (ArrivingInput).
func walkContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	complete, ok := ctx.Value(arrivingKey{}).(<-chan struct{})
	if !ok {
		return context.WithTimeout(ctx, timeout)
	}
	wctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-complete:
		case <-wctx.Done():
			return
		}
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancel() // the parent is not done: read as the time limit
		case <-wctx.Done():
		}
	}()
	return wctx, cancel
}

// walker is the state of one Walk.
type walker struct {
	ctx      context.Context
	lim      Limits
	fn       func(*Part) error
	open     OpenFunc // nil: whole text in Part.Text
	msg      *Message
	entries  int
	inflated int64
	// broken is set when go-message could not finish a multipart; the
	// message is then re-read by the tolerant parser (fallback.go).
	broken bool
	// seen and seenText record what was yielded (locations, hashes of
	// body texts) so the tolerant re-read yields only what was missed.
	seen     map[string]bool
	seenText map[uint64]bool
	unnamed  int
	// stdMiss: the top-level attachments' hashes are not the whole of
	// what go-message reads (Message.AttachmentsHashed).
	stdMiss bool
}

// scope is where an entity sits: body text of the top-level message is
// "body"; inside an attached message it is the message's own location.
type scope struct {
	bodyLoc string // location of body text at this level
	prefix  string // prefix for attachment locations ("" at top level)
	depth   int    // Attachment.Depth of attachments at this level
}

func (s scope) attachmentLoc(name string) string {
	if s.prefix == "" {
		return "attachment:" + name
	}
	return s.prefix + "/" + name
}

// errorf records a problem, prefixed by its location.
func (w *walker) errorf(loc, format string, args ...any) {
	if len(w.msg.Errors) >= maxErrors {
		return
	}
	m := fmt.Sprintf(format, args...)
	if loc != "" {
		m = loc + ": " + m
	}
	w.msg.Errors = append(w.msg.Errors, m)
	if len(w.msg.Errors) == maxErrors {
		w.msg.Errors = append(w.msg.Errors, "further errors omitted")
	}
}

// yield hands a part to the callback.
func (w *walker) yield(p *Part) error {
	if p.Attachment != nil && p.Unscannable != "" {
		p.Attachment.Unscannable = p.Unscannable
	}
	if w.open != nil && p.Text != nil {
		// text produced whole (HTML, PDF, a recovered part): written
		// through the same window
		tb := w.newTextBuf(p.Location, p.Tabular)
		tb.write(p.Text)
		tb.finish(p)
	}
	if p.streamErr != nil {
		return callbackError{p.streamErr}
	}
	w.msg.Parts++
	if p.Attachment != nil {
		w.seen[p.Location] = true
	} else if p.hashed {
		w.seenText[p.hash] = true
	} else {
		w.seenText[textHash(p.Location, p.Text)] = true
	}
	if err := w.fn(p); err != nil {
		return callbackError{err}
	}
	return nil
}

// enter counts one more part or entry against MaxEntries and checks time.
func (w *walker) enter(loc string) error {
	if err := w.ctx.Err(); err != nil {
		w.errorf(loc, "time limit exceeded; rest of message not scanned")
		w.msg.Incomplete = true
		return errStop
	}
	w.entries++
	if w.entries > w.lim.MaxEntries {
		w.errorf(loc, "entry limit (%d) reached; rest of message not scanned", w.lim.MaxEntries)
		w.msg.Incomplete = true
		return errStop
	}
	return nil
}

// readHeader reads a header block, skipping malformed lines instead of
// stopping at them (go-message's reader returns at the first bad line).
// When a malformed line is followed by something that is not a header
// field, the header lacked its blank line: the malformed line is returned
// as the start of the body.
func (w *walker) readHeader(br *bufio.Reader, loc string) (textproto.Header, []byte) {
	var h textproto.Header
	for range 1000 {
		part, err := textproto.ReadHeader(br)
		fields := part.Fields()
		for fields.Next() {
			h.Add(fields.Key(), fields.Value())
		}
		if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return h, nil
		}
		msg := err.Error()
		if !strings.Contains(msg, "malformed MIME header") {
			w.errorf(loc, "read header: %s", shortErr(err))
			return h, nil
		}
		w.errorf(loc, "header: %s", shortErr(err))
		if !looksLikeHeaderLine(peekLine(br)) {
			w.errorf(loc, "header not ended by a blank line; the rest is read as body")
			_, bad, _ := strings.Cut(msg, ": ")
			_, bad, _ = strings.Cut(bad, ": ")
			return h, []byte(bad)
		}
	}
	return h, nil
}

// peekLine returns the next line without consuming it (at most 998
// bytes, the RFC 5322 line limit).
func peekLine(br *bufio.Reader) []byte {
	b, _ := br.Peek(998)
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
}

// looksLikeHeaderLine: a field ("Name: value"), a continuation, a blank
// line ending the header, or the end of input.
func looksLikeHeaderLine(l []byte) bool {
	if len(bytes.TrimRight(l, "\r\n")) == 0 || l[0] == ' ' || l[0] == '\t' {
		return true
	}
	colon := bytes.IndexByte(l, ':')
	if colon <= 0 {
		return false
	}
	for _, c := range bytes.TrimRight(l[:colon], " \t") {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func shortErr(err error) string {
	s := strings.ToValidUTF8(err.Error(), "?")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// fillMessage sets the top-level header facts.
func (w *walker) fillMessage(h textproto.Header) {
	m := w.msg
	m.Subject = decodeWordsOrRaw(h.Get("Subject"))
	m.From = strings.Join(h.Values("From"), ", ")
	m.To = strings.Join(h.Values("To"), ", ")
	m.Cc = strings.Join(h.Values("Cc"), ", ")
	m.MessageID = strings.TrimSpace(h.Get("Message-Id"))
}

// ctxReader counts bytes and stops reading once the context is done, so a
// slow or huge message cannot outlive the time limit.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// withPrefix puts bytes taken for a header line back in front of the body.
func withPrefix(pre []byte, r io.Reader) io.Reader {
	if len(pre) == 0 {
		return r
	}
	return io.MultiReader(bytes.NewReader(pre), r)
}
