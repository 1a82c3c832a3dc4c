package smtp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// bufSession keeps every message and the connection's reader size after
// each DATA.
type bufSession struct {
	c  *Conn
	mu *sync.Mutex
	// msgs gets the bytes of every message.
	msgs *[][]byte
}

func (s *bufSession) Reset()                          {}
func (s *bufSession) Logout() error                   { return nil }
func (s *bufSession) Mail(string, *MailOptions) error { return nil }
func (s *bufSession) Rcpt(string, *RcptOptions) error { return nil }
func (s *bufSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.mu.Lock()
	*s.msgs = append(*s.msgs, b)
	s.mu.Unlock()
	return err
}

func startBufServer(t *testing.T) (addr string, msgs func() [][]byte, conns chan *Conn) {
	t.Helper()
	var mu sync.Mutex
	var got [][]byte
	conns = make(chan *Conn, 8)
	srv := NewServer(BackendFunc(func(c *Conn) (Session, error) {
		conns <- c
		return &bufSession{c: c, mu: &mu, msgs: &got}, nil
	}))
	srv.Domain = "test"
	srv.AllowInsecureAuth = true
	srv.MaxLineLength = 2000
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return append([][]byte(nil), got...)
	}, conns
}

// largeBody has lines starting with dots and a bare LF, over several
// DATA buffers.
func largeBody() string {
	var b strings.Builder
	b.WriteString("Subject: t\r\n\r\n")
	for i := 0; b.Len() < 3*dataBufSize+123; i++ {
		switch i % 7 {
		case 0:
			fmt.Fprintf(&b, ".line %d starts with a dot\r\n", i)
		case 3:
			fmt.Fprintf(&b, "bare LF %d\n", i)
		default:
			fmt.Fprintf(&b, "%s\r\n", strings.Repeat(string(rune('a'+i%26)), 76))
		}
	}
	return b.String()
}

// TestDataBuffers: a DATA transfer on both sides goes through the large
// pooled buffers and gives them back; bytes are those of the small
// buffers, and the connections go on with their own buffers.
func TestDataBuffers(t *testing.T) {
	addr, msgs, conns := startBufServer(t)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(nc)
	defer c.Close()
	own := c.text.W
	body := largeBody()
	for i := 0; i < 3; i++ {
		if err := c.Mail("a@test", nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("b@test", nil); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		if c.text.W == own || c.text.W.Size() != dataBufSize {
			t.Fatalf("DATA writes through the %d-byte buffer", c.text.W.Size())
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if c.text.W != own {
			t.Fatal("the client's own writer is not back after DATA")
		}
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	// The server reads what textproto's DotWriter makes of the body
	// (doubled dots, CRLF for the bare LF) and gives back the dots.
	want := strings.ReplaceAll(body, "\r\n", "\n")
	want = strings.ReplaceAll(want, "\n", "\r\n")
	got := msgs()
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3", len(got))
	}
	for i, m := range got {
		if string(m) != want {
			t.Errorf("message %d: %d bytes, want %d", i, len(m), len(want))
		}
	}
	sc := <-conns
	if sc.text.R.Size() != 4096 {
		t.Errorf("server connection reader of %d bytes after DATA, want its own 4096", sc.text.R.Size())
	}
}

// TestDataBufferPipelined: commands sent right after the final dot arrive
// in the large buffer; the server keeps reading them from it.
func TestDataBufferPipelined(t *testing.T) {
	addr, msgs, conns := startBufServer(t)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(nc)
	expect := func(code string) {
		t.Helper()
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %s: %v", code, err)
			}
			if !strings.HasPrefix(l, code) {
				t.Fatalf("got %q, want %s", l, code)
			}
			if len(l) > 3 && l[3] == ' ' {
				return
			}
		}
	}
	expect("220")
	io.WriteString(nc, "EHLO c\r\n")
	expect("250")
	body := strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", 3000)
	for i := 0; i < 2; i++ {
		io.WriteString(nc, "MAIL FROM:<a@test>\r\nRCPT TO:<b@test>\r\nDATA\r\n")
		expect("250")
		expect("250")
		expect("354")
		// The dot and the next command in one write.
		io.WriteString(nc, body+".\r\nNOOP\r\n")
		expect("250")
		expect("250")
	}
	io.WriteString(nc, "QUIT\r\n")
	expect("221")
	got := msgs()
	if len(got) != 2 || !bytes.Equal(got[0], []byte(body)) || !bytes.Equal(got[1], []byte(body)) {
		t.Fatalf("messages not received intact (%d)", len(got))
	}
	<-conns
}
