package extract

import (
	"bytes"

	"hash/fnv"
	"io"
	"strings"

	"github.com/jhillyerd/enmime/v2"
)

// fallback re-reads a message whose MIME structure go-message could not
// finish (a part header with a broken line, a part without header, a
// mangled boundary) with enmime, which recovers such parts. Only parts not
// yielded by the streaming walk are yielded: attachments by location, body
// texts by content. It is bounded by Limits.MaxFallback because enmime
// holds the whole message in memory.
func (w *walker) fallback(src *replay) error {
	data, ok := src.replay(w.msg.Size)
	if !ok {
		w.errorf("", "message over %d bytes: not re-read after the MIME error; rest of the multipart not read", w.lim.MaxFallback)
		w.msg.Incomplete = true
		return nil
	}
	// enmime links each part to its parent by walking the sibling list:
	// quadratic in the number of parts (60,000 parts in 2 MiB took 9 s),
	// and it cannot be interrupted. Delimiter lines bound the part count.
	raw, err := io.ReadAll(data) // at most MaxFallback bytes; enmime holds them all anyway
	if err != nil {
		w.errorf("", "tolerant re-read failed: %v; rest of the multipart not read", err)
		w.msg.Incomplete = true
		return nil
	}
	if n := bytes.Count(raw, []byte("\n--")); n > w.lim.MaxEntries {
		w.errorf("", "%d MIME delimiter lines (over %d): not re-read after the MIME error; rest of the multipart not read", n, w.lim.MaxEntries)
		w.msg.Incomplete = true
		return nil
	}
	root, err := enmime.NewParser().ReadParts(bytes.NewReader(raw))
	if err != nil || root == nil {
		w.errorf("", "tolerant re-read failed: %v; rest of the multipart not read", err)
		w.msg.Incomplete = true
		return nil
	}
	recovered := 0
	stack := []*enmime.Part{root}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p.NextSibling != nil {
			stack = append(stack, p.NextSibling)
		}
		if p.FirstChild != nil {
			stack = append(stack, p.FirstChild)
			continue
		}
		n, err := w.recoverPart(p)
		if err != nil {
			return err
		}
		recovered += n
	}
	w.errorf("", "MIME structure re-read by the tolerant parser: %d more parts", recovered)
	return nil
}

// recoverPart yields one enmime leaf part unless it was already yielded.
func (w *walker) recoverPart(p *enmime.Part) (int, error) {
	mt := strings.ToLower(p.ContentType)
	if mt == "" {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		return 0, nil
	}
	name := p.FileName
	attach := strings.EqualFold(p.Disposition, "attachment") || name != "" || !strings.HasPrefix(mt, "text/")
	if !attach {
		cs := p.Charset
		if cs == "" {
			cs = p.ContentTypeParams["charset"]
		}
		part := w.bodyPart("body", mt, cs, &recordingReader{r: bytes.NewReader(p.Content)})
		if len(bytes.TrimSpace(part.Text)) == 0 || w.seenText[textHash(part.Location, part.Text)] {
			return 0, nil
		}
		if err := w.enter("body"); err != nil {
			return 0, err
		}
		return 1, w.yield(part)
	}
	if name == "" {
		// unnamed parts get numbers in order; a re-read numbers afresh, so
		// match on content type instead of on a number
		name = "recovered"
	}
	name = w.cleanName(name, mt)
	loc := "attachment:" + name
	if w.seen[loc] {
		return 0, nil
	}
	if err := w.enter(loc); err != nil {
		return 0, err
	}
	f := file{name: name, loc: loc, declared: mt, charset: p.Charset}
	if err := w.file(f, &recordingReader{r: bytes.NewReader(p.Content)}); err != nil {
		return 0, err
	}
	return 1, nil
}

// textHash identifies a yielded body text.
func textHash(loc string, text []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(loc))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(text)
	return h.Sum64()
}

// replay gives the message bytes a second time: by seeking back when the
// source can seek, else from a copy of the first max bytes read.
type replay struct {
	r      io.Reader
	seeker io.ReadSeeker
	start  int64
	max    int64
	buf    bytes.Buffer
	over   bool
}

func newReplay(r io.Reader, max int64) *replay {
	rp := &replay{r: r, max: max}
	if s, ok := r.(io.ReadSeeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			rp.seeker, rp.start = s, off
		}
	}
	return rp
}

func (rp *replay) Read(p []byte) (int, error) {
	n, err := rp.r.Read(p)
	if rp.seeker == nil && !rp.over {
		if int64(rp.buf.Len()+n) > rp.max {
			rp.over = true
			rp.buf = bytes.Buffer{}
		} else {
			rp.buf.Write(p[:n])
		}
	}
	return n, err
}

// replay returns a reader over the size bytes read so far, or false when
// they were not kept or are over the limit.
func (rp *replay) replay(size int64) (io.Reader, bool) {
	if size > rp.max {
		return nil, false
	}
	if rp.seeker != nil {
		if _, err := rp.seeker.Seek(rp.start, io.SeekStart); err != nil {
			return nil, false
		}
		return io.LimitReader(rp.seeker, size), true
	}
	if rp.over {
		return nil, false
	}
	return bytes.NewReader(rp.buf.Bytes()), true
}
