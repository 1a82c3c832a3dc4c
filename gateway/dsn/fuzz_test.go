package dsn

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// FuzzBuildFieldsStayPut feeds hostile text into every field taken from
// outside and checks that the DSN keeps its shape: the same top-level
// fields, three parts, one status block per recipient with one Action.
func FuzzBuildFieldsStayPut(f *testing.F) {
	f.Add("taro@example.com", "550 5.1.1 no\r\nBcc: x@y", "mx\nAction: delivered", "a@b\r\n\r\nFinal-Recipient: rfc822; z", "Q1")
	f.Add("<>", "--=_sendguard_dsn_", "\x00\x7f\u0085", "山田@例え.jp", "")
	f.Fuzz(func(t *testing.T, to, diag, remote, final, envid string) {
		p := failedParams()
		p.To, p.EnvID = to, envid
		p.Recipients = []Recipient{{Final: final, Action: Failed, Status: "5.1.1", Diagnostic: diag, RemoteMTA: remote}}
		raw, err := Build(p)
		if err != nil {
			return
		}
		for _, line := range bytes.Split(raw, []byte("\r\n")) {
			if len(line) > 998 {
				t.Fatalf("line of %d bytes (RFC 5322 limit 998)", len(line))
			}
		}
		e, err := message.Read(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("unparseable DSN: %v", err)
		}
		allowed := map[string]bool{"From": true, "To": true, "Subject": true, "Date": true, "Message-Id": true,
			"In-Reply-To": true, "References": true, "Auto-Submitted": true, "Mime-Version": true, "Content-Type": true}
		fields := e.Header.Fields()
		for fields.Next() {
			if !allowed[fields.Key()] {
				t.Fatalf("unexpected top-level field %q", fields.Key())
			}
		}
		mr := e.MultipartReader()
		var bodies [][]byte
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(part.Body)
			bodies = append(bodies, b)
		}
		if len(bodies) != 3 {
			t.Fatalf("%d parts", len(bodies))
		}
		br := bufio.NewReader(bytes.NewReader(bodies[1]))
		if _, err := textproto.ReadHeader(br); err != nil {
			t.Fatal(err)
		}
		h, err := textproto.ReadHeader(br)
		if err != nil {
			t.Fatal(err)
		}
		if rest, _ := io.ReadAll(br); len(strings.TrimSpace(string(rest))) != 0 {
			t.Fatalf("extra status block: %q", rest)
		}
		if len(h.Values("Action")) != 1 || h.Get("Action") != "failed" || len(h.Values("Final-Recipient")) != 1 {
			t.Fatalf("status block altered: %v", h)
		}
	})
}
