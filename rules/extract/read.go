package extract

import (
	"bytes"
	"errors"
	"io"
)

// limitError is returned by readers that stop at a limit or at corrupt
// data; the part being read becomes unscannable with this reason.
type limitError struct{ reason string }

func (e *limitError) Error() string { return e.reason }

// recordingReader remembers the first read error other than EOF, so the
// walker can report a truncated or corrupt part once it has used what was
// read.
type recordingReader struct {
	r   io.Reader
	n   int64
	err error
	std *stdHash // hashes what is read, for a file of the sent record
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	if r.std != nil {
		if !r.std.paused {
			_, _ = r.std.h.Write(p[:n])
			r.std.n += int64(n)
		}
		r.std.eof = err == io.EOF && r.err == nil
	}
	return n, err
}

// limitReason returns the limit that stopped the reader, if any.
func (r *recordingReader) limitReason() string {
	var le *limitError
	if errors.As(r.err, &le) {
		return le.reason
	}
	return ""
}

// readProblem records a read error that is not a limit (limits make the
// part unscannable instead).
func (w *walker) readProblem(loc string, r *recordingReader) {
	if r.err == nil || r.limitReason() != "" {
		return
	}
	if errors.Is(r.err, io.ErrUnexpectedEOF) {
		w.errorf(loc, "part ends early (missing boundary or truncated data)")
		return
	}
	w.errorf(loc, "read: %s", shortErr(r.err))
}

// drain reads r to its end and returns how many bytes that was. It hides
// r's WriteTo: io.Copy prefers it to io.Discard's pooled ReadFrom, and an
// io.MultiReader's (a sniffed head before the rest) allocates a fresh
// 32 KiB buffer per call, most of the bytes a typical mail's walk
// allocated.
func drain(r io.Reader) int64 {
	n, _ := io.Copy(io.Discard, struct{ io.Reader }{r})
	return n
}

// readCapped reads up to max bytes and discards the rest, reporting
// whether there was more.
func readCapped(r io.Reader, max int64) ([]byte, int64, bool) {
	var b bytes.Buffer
	n, _ := io.Copy(&b, io.LimitReader(r, max))
	rest := drain(r)
	return b.Bytes(), n + rest, rest > 0
}

// htmlMetaCharset finds a <meta charset> or http-equiv charset near the
// start of an HTML document.
func htmlMetaCharset(raw []byte) string {
	head := raw
	if len(head) > 4096 {
		head = head[:4096]
	}
	lower := bytes.ToLower(head)
	for off := 0; ; {
		i := bytes.Index(lower[off:], []byte("<meta"))
		if i < 0 {
			return ""
		}
		off += i + 5
		end := bytes.IndexByte(lower[off:], '>')
		if end < 0 {
			return ""
		}
		tag := lower[off : off+end]
		if j := bytes.Index(tag, []byte("charset=")); j >= 0 {
			v := tag[j+8:]
			v = bytes.TrimLeft(v, `"' `)
			k := bytes.IndexAny(v, "\"' ;/>")
			if k >= 0 {
				v = v[:k]
			}
			return string(v)
		}
	}
}
