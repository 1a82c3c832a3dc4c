package gateway_test

import (
	"fmt"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/spool"
)

// earlyCounter is the pipe's policy inspector, counting the analyses begun
// while a body was arriving.
type earlyCounter struct {
	*disposition.PolicyInspector
	began atomic.Int32
}

func (e *earlyCounter) Begin(in *disposition.Inbound, body *spool.TailReader) *disposition.Early {
	e.began.Add(1)
	return e.PolicyInspector.Begin(in, body)
}

// openData is a client session over loopback up to DATA's 354.
func openData(t *testing.T, addr string) *textproto.Conn {
	t.Helper()
	c, err := textproto.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	step := func(code int, cmd string) {
		t.Helper()
		if cmd != "" {
			if _, err := c.Cmd("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		if _, msg, err := c.ReadResponse(code); err != nil {
			t.Fatalf("%q: %v %s", cmd, err, msg)
		}
	}
	step(220, "")
	step(250, "EHLO client.example.com")
	step(250, "MAIL FROM:<alice@example.com>")
	step(250, "RCPT TO:<"+pipeRcpt+">")
	step(354, "DATA")
	return c
}

// write sends raw DATA bytes.
func write(t *testing.T, c *textproto.Conn, s string) {
	t.Helper()
	if _, err := c.W.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := c.W.Flush(); err != nil {
		t.Fatal(err)
	}
}

// waitBegun waits, bounded, for the analysis of the message being sent to
// begin: before the client has sent its last byte.
func waitBegun(t *testing.T, ec *earlyCounter, n int32) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ec.began.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatal("the analysis did not begin before the last byte")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The head of a message of 200 KB of text: over spool.MaxInline, so its
// analysis begins as it arrives.
var earlyHead = "From: <alice@example.com>\r\nTo: <" + pipeRcpt + ">\r\nSubject: early\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" +
	strings.Repeat("the quarterly figures follow below.\r\n", 5500)

// Over a real socket the analysis of a large message begins while the
// client is still sending, and decides on the whole message: an attachment
// sent after the pause holds it.
func TestAnalysisBeginsBeforeTheLastByte(t *testing.T) {
	p := openPipe(t, t.TempDir(), pipePolicy("hold_review"), &recorder{}, nil)
	defer p.close()
	ec := &earlyCounter{PolicyInspector: p.insp}
	p.intake.SetInspector(ec)

	c := openData(t, p.addr)
	write(t, c, earlyHead)
	waitBegun(t, ec, 1)
	write(t, c, "--b1\r\nContent-Type: text/csv; name=\"list.csv\"\r\nContent-Disposition: attachment; filename=\"list.csv\"\r\n\r\n"+
		"a,b\r\n--b1--\r\n.\r\n")
	_, msg, err := c.ReadResponse(250)
	if err != nil {
		t.Fatalf("end of DATA: %v %s", err, msg)
	}
	id := msg[strings.LastIndex(msg, " ")+1:]
	rec, err := p.store.Get(id)
	if err != nil {
		t.Fatalf("queued as %q: %v", id, err)
	}
	if rec.State != spool.StateHeld {
		t.Fatalf("state %s, want held: the attachment after the pause decides", rec.State)
	}
}

// Data refused after the analysis began (a bare LF) is answered 5xx and
// nothing is kept; the session takes the next message.
func TestAnalysisBegunThenDataRefused(t *testing.T) {
	p := openPipe(t, t.TempDir(), pipePolicy("hold_review"), &recorder{}, nil)
	defer p.close()
	ec := &earlyCounter{PolicyInspector: p.insp}
	p.intake.SetInspector(ec)

	c := openData(t, p.addr)
	write(t, c, earlyHead)
	waitBegun(t, ec, 1)
	write(t, c, "a bare\nline feed\r\n--b1--\r\n.\r\n")
	if code, msg, err := c.ReadResponse(5); err != nil || code < 500 {
		t.Fatalf("end of DATA: %d %s, want a refusal", code, msg)
	}
	kept := 0
	p.store.ForEach(func(*spool.Record) bool { kept++; return true })
	if kept != 0 {
		t.Fatalf("%d records kept after the refusal", kept)
	}
	id := p.sendData("after", pipeMail("after"))
	if _, err := p.store.Get(id); err != nil {
		t.Fatal(fmt.Errorf("the next message: %w", err))
	}
}
