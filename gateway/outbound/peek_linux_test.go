package outbound

import (
	"net"
	"testing"
	"time"
)

func TestPeekConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (client, server net.Conn) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); s.Close() })
		return c, s
	}
	// settle waits for what the server did to reach the client's socket.
	settle := func(c net.Conn, want peekResult) peekResult {
		var got peekResult
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if got = peekConn(c); got == want {
				break
			}
		}
		return got
	}

	c, s := pair()
	if got := peekConn(c); got != peekIdle {
		t.Errorf("idle connection: %v, want peekIdle", got)
	}
	if _, err := s.Write([]byte("421 bye\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := settle(c, peekGone); got != peekGone {
		t.Errorf("unread bytes: %v, want peekGone", got)
	}
	// The look takes nothing from the connection.
	buf := make([]byte, 16)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "421 bye\r\n" {
		t.Errorf("read after peek: %q, %v", buf[:n], err)
	}

	c, s = pair()
	s.Close()
	if got := settle(c, peekGone); got != peekGone {
		t.Errorf("closed by peer: %v, want peekGone", got)
	}

	c, _ = pair()
	c.Close()
	if got := peekConn(c); got != peekGone {
		t.Errorf("closed here: %v, want peekGone", got)
	}
	if got := peekConn(opaqueConn{c}); got != peekUnknown {
		t.Errorf("not a socket: %v, want peekUnknown", got)
	}
}
