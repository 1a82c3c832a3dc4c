package outbound

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dotWrite is what net/textproto's DotWriter (go-smtp's data writer does
// the same) sends for p, the final dot included.
func dotWrite(p []byte) []byte {
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	w := textproto.NewWriter(bw).DotWriter()
	w.Write(p)
	w.Close()
	return b.Bytes()
}

// unchangedEnd is the data as sent when it passes unchanged.
func unchangedEnd(p []byte) []byte {
	out := append([]byte(nil), p...)
	if !bytes.HasSuffix(p, []byte("\n")) { // empty data too
		out = append(out, "\r\n"...)
	}
	return append(out, ".\r\n"...)
}

var passesCases = []string{
	"", "a", "a\r\nb\r\n", "a\r\nb", "\r\n", ".a\r\n", "a\r\n.b\r\n", "a\nb\r\n", "a\r\r\nb\r\n",
	"a\rb\r\n", "a\r\n\r", "\n", "a\r\n..\r\n", "a.\r\nb.\r\n", "a\r\n\r\n.\r\n", "\r\r\n", "a\r",
}

// TestPassesUnchanged: whenever passesUnchanged says so, the data writer
// sends the bytes unchanged; and it says so for ordinary CRLF mail.
func TestPassesUnchanged(t *testing.T) {
	for _, c := range passesCases {
		p := []byte(c)
		same := bytes.Equal(dotWrite(p), unchangedEnd(p))
		if got := passesUnchanged(p); got && !same {
			t.Errorf("passesUnchanged(%q) = true, but the writer changes it", c)
		}
	}
	for _, c := range []string{"a\r\nb\r\n", "a\r\nb", "Subject: x\r\n\r\nbody. more\r\n"} {
		if !passesUnchanged([]byte(c)) {
			t.Errorf("passesUnchanged(%q) = false", c)
		}
	}
}

func FuzzPassesUnchanged(f *testing.F) {
	for _, c := range passesCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if passesUnchanged(p) && !bytes.Equal(dotWrite(p), unchangedEnd(p)) {
			t.Fatalf("passesUnchanged(%q) = true, but the writer changes it", p)
		}
	})
}

// TestSendFileBytesExact: a spooled body file goes out byte for byte as
// the buffered copy sends it, whether it passes unchanged (sendfile) or
// needs dot-stuffing or line-end changes (written from the mapping), and
// the session carries on with the next message.
func TestSendFileBytesExact(t *testing.T) {
	line := strings.Repeat("0123456789", 7) + "\r\n"
	big := strings.Repeat(line, 3000) // over sendFileMin
	bodies := map[string]string{
		"clean":            "Subject: a\r\n\r\n" + big,
		"clean no end":     "Subject: a\r\n\r\n" + big + "tail",
		"leading dot":      "Subject: a\r\n\r\n" + big + ".dot\r\n" + big,
		"bare LF":          "Subject: a\r\n\r\n" + big + "bare\n" + big,
		"CR CR LF":         "Subject: a\r\n\r\n" + big + "x\r\r\n" + big,
		"bare CR at end":   "Subject: a\r\n\r\n" + big + "x\r",
		"small":            "Subject: a\r\n\r\nsmall\r\n",
		"starts with dot":  "." + big,
		"dot after header": "Subject: a\r\n\r\n." + big,
	}
	dir := t.TempDir()
	for name, body := range bodies {
		path := filepath.Join(dir, "body")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var raws [2]string
		for i, fromFile := range []bool{false, true} {
			s := startSink(t, sinkOpts{})
			c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
			open := bodyOf(body)
			if fromFile {
				open = func() (io.ReadCloser, error) { return os.Open(path) }
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			for range 2 {
				wantDelivered(t, c.Deliver(ctx, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@example.net"}}, open))
			}
			cancel()
			msgs := s.messages()
			if len(msgs) != 2 {
				t.Fatalf("%s: %d messages", name, len(msgs))
			}
			raws[i] = s.rawText()
		}
		if raws[0] != raws[1] {
			t.Errorf("%s: the file's transfer differs from the buffered copy's (%d against %d bytes)", name, len(raws[1]), len(raws[0]))
		}
	}
}
