package front

import (
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// lineLimitSlack is how much longer go-smtp's own line limit is than
// smtp.max_line_length: well over its read-ahead (64 KiB within DATA, the
// bytes it may have counted that the data checker has not seen yet), so
// that our limit (the intake's data checker), which answers, is always met
// first.
const lineLimitSlack = 128 << 10

// drainQuiet is how long the client may stay silent while the rest of a
// refused message is drained from the connection before the reply is sent
// anyway: a client that has sent everything is waiting for that reply.
const drainQuiet = 5 * time.Second

// drainData reads the rest of a refused message, so that the client, which
// sends the whole message before reading the reply (RFC 5321 §4.1.1.4),
// gets the reply instead of a reset connection. go-smtp drains through its
// own line limit; a line longer than that one (set above ours, so we refuse
// first) stops its reader for good, and the rest is then read from the
// connection itself up to the end-of-data marker. At most limit bytes are
// read that way; past that, or on a read error, the connection is closed.
func (r *idleReader) drainData(limit int64) {
	_, err := io.Copy(io.Discard, r)
	if !errors.Is(err, smtp.ErrTooLongLine) || r.conn == nil {
		return // the end, or an error go-smtp's own drain and reply handle
	}
	var tail [4]byte // the last bytes seen, for a marker split across reads
	n := 0
	buf := make([]byte, 32<<10)
	for read := int64(0); read < limit; {
		r.conn.SetReadDeadline(time.Now().Add(min(r.timeout, drainQuiet)))
		k, err := r.conn.Read(buf)
		read += int64(k)
		if k > 0 {
			window := append(tail[:n:n], buf[:k]...)
			if bytes.Contains(window, []byte("\r\n.\r\n")) {
				return
			}
			n = copy(tail[:], window[max(0, len(window)-4):])
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // the client waits for the reply: the marker was in what go-smtp read
			}
			r.conn.Close()
			return
		}
	}
	r.conn.Close()
}

// idleReader extends the connection's read deadline before every read, so
// a slow but live client may send a large message while a stalled one is
// cut off after the idle timeout (go-smtp's own ReadTimeout is one deadline
// for the whole DATA phase).
type idleReader struct {
	r       io.Reader
	conn    net.Conn
	timeout time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.conn != nil {
		r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	}
	n, err := r.r.Read(p)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return n, errTimeout
		}
	}
	return n, err
}
