package extract

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"github.com/sendguard/sendguard/internal/filemagic"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/extract/worker"
)

func messageHeader(h textproto.Header) message.Header { return message.Header{Header: h} }

// entity walks one MIME entity: a multipart container, an attached message,
// a body text or an attachment.
func (w *walker) entity(h textproto.Header, body io.Reader, sc scope, nesting int) error {
	ctRaw := h.Get("Content-Type")
	mt, ctp := parseParams(ctRaw)
	// The top-level MIME tree as go-message reads it, for the files a
	// sent record lists (stdfile.go); what attached messages hold is not
	// part of it.
	var std *stdPart
	if sc.depth == 0 && !w.stdMiss {
		s := readStdPart(h)
		std = &s
	}
	if !strings.Contains(mt, "/") {
		if strings.TrimSpace(ctRaw) != "" {
			w.errorf(sc.bodyLoc, "malformed Content-Type %s; read as text/plain", quoteShort(ctRaw))
		}
		// The type falls back to text/plain (RFC 2045 §5.2), but a file
		// name it gives still makes the part a file, as mail clients
		// (and the rewrite) take it: dropping it sent a named document
		// out unread as "text". go-message reads no name there, so the
		// sent record reads the message itself.
		if ctp["name"] != "" && std != nil {
			w.notHashed()
		}
		mt, ctp = "text/plain", map[string]string{"charset": ctp["charset"], "name": ctp["name"]}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if b := ctp["boundary"]; b != "" && nesting < maxMIMENesting {
			if std != nil && (!std.multipart || std.boundary != b || std.name != "") {
				w.notHashed() // a different tree, or a named multipart go-message reads as a file
			}
			return w.multipart(body, b, sc, nesting+1)
		}
		if nesting >= maxMIMENesting {
			w.errorf(sc.bodyLoc, "multipart nesting over %d; read as text", maxMIMENesting)
		} else {
			w.errorf(sc.bodyLoc, "multipart without boundary; read as text")
		}
		mt = "text/plain"
	}
	disp, dp := parseParams(h.Get("Content-Disposition"))
	name := dp["filename"]
	if name == "" {
		name = ctp["name"]
	}
	loc := sc.bodyLoc
	attach := disp == "attachment" || name != "" || !strings.HasPrefix(mt, "text/")
	dec, problem := transferDecoder(h.Get("Content-Transfer-Encoding"), body)
	var src io.Reader = dec
	if !attach {
		// A document or an archive declared as text (a client's or a
		// person's doing) is still a file a recipient can save and open:
		// read it as a file (an archive it cannot read is unscannable),
		// or its content would go out unread.
		pk := &peekReader{r: dec}
		src = pk
		if pk.fill(); filemagic.Type(pk.head[:pk.n]) != "" {
			attach = true
			if std != nil {
				w.notHashed() // go-message names no file here
			}
		}
	}
	if attach {
		name = w.cleanName(name, mt)
		loc = sc.attachmentLoc(name)
	}
	if err := w.enter(loc); err != nil {
		return err
	}
	if problem != "" {
		w.errorf(loc, "%s", problem)
	}
	rr := &recordingReader{r: src}
	if std != nil && std.multipart {
		w.notHashed() // go-message walks into what is read here as one part
	} else if std != nil && std.name != "" {
		// a file of the sent record: hashed as read if it is read as
		// go-message reads it, under the same name and type
		b, isB64 := dec.(*base64Reader)
		if attach && std.decodable && std.base64 == isB64 && name == std.name && mt == std.mt {
			rr.std = newStdHash()
			if isB64 {
				rr.std.b64 = b
			}
		} else {
			w.notHashed()
		}
	}
	var err error
	switch {
	case attach:
		f := file{name: name, loc: loc, declared: mt, charset: ctp["charset"], depth: sc.depth, std: rr.std}
		err = w.file(f, rr)
	case mt == "text/plain" && strings.EqualFold(ctp["format"], "flowed"):
		p := w.bodyPart(loc, mt, ctp["charset"], rr)
		p.Text = unflow(p.Text, strings.EqualFold(ctp["delsp"], "yes"))
		err = w.yield(p)
	default:
		err = w.bodyText(loc, mt, ctp["charset"], rr)
	}
	if b, ok := dec.(*base64Reader); ok {
		if b.problem() != "" {
			w.errorf(loc, "%s", b.problem())
		}
		b.release() // the part is read: nothing holds the decoder
	}
	return err
}

// multipart walks the parts of a multipart body. When go-message cannot go
// on (a malformed part header, junk between parts, a missing final
// boundary), what was read has been yielded and the rest is reported.
func (w *walker) multipart(body io.Reader, boundary string, sc scope, nesting int) error {
	pre := &preamble{r: body, max: w.lim.MaxPartText}
	mr := textproto.NewMultipartReader(pre, boundary)
	for i := 0; i <= w.lim.MaxEntries; i++ {
		p, err := mr.NextPart()
		if err != nil && !(i > 0 && errors.Is(err, io.EOF)) && sc.depth == 0 {
			w.notHashed() // go-message's walk fails here, or finds no part
		}
		if i == 0 && err != nil && w.ctx.Err() == nil {
			// no part at all: whatever the body holds is its text
			w.errorf(sc.bodyLoc, "multipart with no parts; body read as text")
			drain(pre)
			err := w.bodyText(sc.bodyLoc, "text/plain", "", &recordingReader{r: bytes.NewReader(pre.bytes())})
			pre.done() // bodyText has read and copied the text
			return err
		}
		pre.done()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if w.ctx.Err() != nil {
				return w.enter(sc.bodyLoc) // records the time limit
			}
			if strings.Contains(err.Error(), "EOF") {
				w.errorf(sc.bodyLoc, "multipart: missing final boundary")
			} else {
				w.errorf(sc.bodyLoc, "multipart: %s", shortErr(err))
				w.broken = true
			}
			return nil
		}
		if err := w.entity(p.Header, p, sc, nesting); err != nil {
			return err
		}
	}
	if sc.depth == 0 {
		w.notHashed() // parts left unread
	}
	return nil
}

// cleanName makes a file name usable in a location: control characters
// and surrounding space removed, unnamed parts numbered.
func (w *walker) cleanName(name, mt string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" {
		w.unnamed++
		name = fmt.Sprintf("part-%d", w.unnamed)
		if mt == "message/rfc822" || mt == "message/global" {
			name += ".eml"
		}
	}
	return name
}

// bodyText yields a text/* body part.
func (w *walker) bodyText(loc, mt, cs string, r *recordingReader) error {
	if w.open != nil && mt != "text/html" {
		tb := w.newTextBuf(loc, false)
		p := &Part{Location: loc, ContentType: mt}
		var problem string
		p.Charset, p.Truncated, problem = w.streamDecode(r, cs, false, false, tb)
		drain(r)
		w.readProblem(loc, r)
		if problem != "" {
			w.errorf(loc, "%s", problem)
		}
		p.Truncated = p.Truncated || tb.full
		if p.Truncated {
			w.errorf(loc, "text cut at %d bytes", w.lim.MaxPartText)
		}
		tb.finish(p)
		return w.yield(p)
	}
	return w.yield(w.bodyPart(loc, mt, cs, r))
}

// bodyPart reads a text/* body part.
func (w *walker) bodyPart(loc, mt, cs string, r *recordingReader) *Part {
	raw, _, truncated := readCapped(r, w.lim.MaxPartText)
	w.readProblem(loc, r)
	p := &Part{Location: loc, ContentType: mt, Truncated: truncated}
	p.Text, p.Charset = w.decode(loc, raw, cs, mt == "text/html", truncated)
	p.Text, truncated = worker.CapText(p.Text, w.lim.MaxPartText)
	p.Truncated = p.Truncated || truncated
	if p.Truncated {
		w.errorf(loc, "text cut at %d bytes", w.lim.MaxPartText)
	}
	return p
}

// decode turns raw text into UTF-8 (rendering HTML), recording charset
// problems.
func (w *walker) decode(loc string, raw []byte, cs string, isHTML, cut bool) ([]byte, string) {
	if isHTML && cs == "" {
		cs = htmlMetaCharset(raw)
	}
	text, used, problem := decodeCut(raw, cs, cut)
	if problem != "" {
		w.errorf(loc, "%s", problem)
	}
	if isHTML {
		text = htmlToText(text)
	}
	return text, used
}

// attachedMessage walks a message/rfc822 attachment: its header summary is
// the container's text, its body and attachments are walked below it.
func (w *walker) attachedMessage(att *rules.Attachment, r io.Reader) (result, error) {
	if att.Depth+1 > w.lim.MaxDepth {
		return result{unscannable: fmt.Sprintf("nesting deeper than %d", w.lim.MaxDepth)}, nil
	}
	br := bufio.NewReaderSize(r, 16<<10)
	h, pre := w.readHeader(br, att.Location)
	var sum strings.Builder
	for _, k := range []string{"From", "To", "Cc", "Subject", "Date"} {
		for _, v := range h.Values(k) {
			sum.WriteString(k + ": " + decodeWordsOrRaw(v) + "\n")
		}
	}
	sc := scope{bodyLoc: att.Location, prefix: att.Location, depth: att.Depth + 1}
	err := w.entity(h, withPrefix(pre, br), sc, 0)
	return result{text: []byte(sum.String()), contentType: "message/rfc822", charset: "utf-8"}, err
}

// preamble keeps the first bytes of a multipart body until its first part
// is found, so a multipart whose boundary never appears is still read.
type preamble struct {
	r       io.Reader
	buf     *bytes.Buffer // from preambleBufs, until done
	max     int64
	stopped bool
}

// preambleBufs: every multipart keeps its first read (a few KB) until
// its first part shows.
var preambleBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (p *preamble) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if !p.stopped {
		if p.buf == nil {
			p.buf = preambleBufs.Get().(*bytes.Buffer)
		}
		room := p.max - int64(p.buf.Len())
		p.buf.Write(b[:min(int64(n), max(room, 0))])
	}
	return n, err
}

// bytes is what was kept; valid until done.
func (p *preamble) bytes() []byte {
	if p.buf == nil {
		return nil
	}
	return p.buf.Bytes()
}

func (p *preamble) done() {
	if !p.stopped {
		p.stopped = true
		if p.buf != nil && p.buf.Cap() <= 64<<10 {
			p.buf.Reset()
			preambleBufs.Put(p.buf)
		}
		p.buf = nil
	}
}

// peekReader reads the first bytes of a part's decoded body ahead, to see
// what it holds, and then hands them out before the rest.
type peekReader struct {
	r      io.Reader
	head   [filemagic.HeadLen]byte
	n, off int
	err    error // of the read ahead, handed out after the head
}

func (p *peekReader) fill() {
	p.n, p.err = io.ReadFull(p.r, p.head[:])
	if p.err == io.ErrUnexpectedEOF {
		p.err = io.EOF
	}
}

func (p *peekReader) Read(b []byte) (int, error) {
	if p.off < p.n {
		n := copy(b, p.head[p.off:p.n])
		p.off += n
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}
