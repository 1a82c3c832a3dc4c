package smtp

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// TestResetKeepsGreeting (sendguard): after RSET the client goes on with
// MAIL in the same session, without a second EHLO (RFC 5321 §4.1.1.5), over
// a real loopback connection.
func TestResetKeepsGreeting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmds := make(chan []string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			cmds <- nil
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		conn.Write([]byte("220 test ready\r\n"))
		var seen []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				break
			}
			verb := strings.ToUpper(strings.Fields(line + " x")[0])
			seen = append(seen, verb)
			switch verb {
			case "EHLO":
				conn.Write([]byte("250-test\r\n250 8BITMIME\r\n"))
			case "QUIT":
				conn.Write([]byte("221 bye\r\n"))
				cmds <- seen
				return
			default:
				conn.Write([]byte("250 ok\r\n"))
			}
		}
		cmds <- seen
	}()
	c, err := Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := c.Mail("a@example.com", nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("b@example.com", nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Reset(); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := c.Extension("8BITMIME"); !ok {
		t.Error("the extensions announced at EHLO were forgotten at RSET")
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(<-cmds, " ")
	if want := "EHLO MAIL RCPT RSET MAIL RCPT RSET QUIT"; got != want {
		t.Errorf("commands %q, want %q", got, want)
	}
}
