package outbound

import (
	"errors"
	"net"
	"syscall"
)

// peekConn looks at an idle connection without waiting and without taking
// anything from it (recv with MSG_PEEK|MSG_DONTWAIT): nothing to read means
// the peer still holds it open; EOF, an error or any byte (a 421 before
// closing, a TLS alert) means it is not fit for a new transaction.
func peekConn(c net.Conn) peekResult {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return peekUnknown
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return peekUnknown
	}
	var (
		buf  [1]byte
		rerr error
	)
	// Returning true never parks on the poller: one attempt only.
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	})
	switch {
	case errors.Is(err, net.ErrClosed):
		return peekGone
	case err != nil: // a read deadline left set, say: RSET will tell
		return peekUnknown
	case errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK):
		return peekIdle
	case errors.Is(rerr, syscall.EINTR):
		return peekUnknown
	default: // a byte, EOF (nothing and no error) or an error such as ECONNRESET
		return peekGone
	}
}
