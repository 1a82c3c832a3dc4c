//go:build linux

package outbound

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// sendFileMin is the smallest body file sent by sendBodyFile: below it the
// mapping costs more than the copies it saves.
const sendFileMin = 64 << 10

// sendFileChunk bounds one sendfile call, so that the write timeout still
// applies to a bounded amount of data, as it does per buffered write.
const sendFileChunk = 1 << 20

// sendBodyFile sends a spooled body file without copying it through user
// space when it can: the file is mapped to check, without reading it
// through a buffer, that the data writer would pass its bytes unchanged
// (passesUnchanged), and then goes to the socket with sendfile. A body that
// needs dot-stuffing or line-end changes goes through the data writer from
// the mapping (still one copy fewer). ok is false when nothing was sent and
// the caller copies the body as usual. conn is the TCP connection (no TLS).
func sendBodyFile(conn net.Conn, w *smtp.DataCommand, f *os.File, timeout time.Duration) (ok bool, err error) {
	rf, isRF := conn.(io.ReaderFrom)
	if !isRF {
		return false, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < sendFileMin || int64(int(fi.Size())) != fi.Size() {
		return false, nil
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return false, nil
	}
	size := fi.Size()
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return false, nil
	}
	defer syscall.Munmap(data)
	if !passesUnchanged(data) {
		_, err := w.Write(data)
		return true, err
	}
	direct, err := w.Passthrough()
	if err != nil {
		return true, err
	}
	if !direct {
		_, err := w.Write(data)
		return true, err
	}
	var sent int64
	for sent < size {
		if err := conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return true, err
		}
		n, err := rf.ReadFrom(io.LimitReader(f, min(sendFileChunk, size-sent)))
		sent += n
		if err != nil {
			return true, err
		}
		if n == 0 {
			return true, io.ErrUnexpectedEOF // the file shrank: never end the data
		}
	}
	w.Passed(sent, data[len(data)-1])
	return true, nil
}
