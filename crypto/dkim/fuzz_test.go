package dkim

import (
	"bytes"
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// FuzzSignature feeds arbitrary messages to the signer: it never panics,
// and what it signs verifies.
func FuzzSignature(f *testing.F) {
	f.Add([]byte(testMsg))
	f.Add([]byte("From: a@example.com\r\n\r\n"))
	f.Add([]byte("From: =?utf-8?q?x?= <a@sub.example.com>, b@x.test\nSubject: x\n\nbody"))
	f.Add([]byte("From:\r\n\t<a@example.com>\r\n\r\n\r\n\r\n"))
	key, pemData, err := GenerateKey("ed25519", 0)
	if err != nil {
		f.Fatal(err)
	}
	s, err := New([]Domain{{Name: "example.com", Selector: "s", KeyFile: writeKey(f, pemData)}})
	if err != nil {
		f.Fatal(err)
	}
	rec, _ := RecordValue(key)
	f.Fuzz(func(t *testing.T, msg []byte) {
		field, err := s.Signature(bytes.NewReader(msg))
		if err != nil || field == "" {
			return
		}
		if !strings.HasPrefix(field, "DKIM-Signature: ") || !strings.HasSuffix(field, "\r\n") {
			t.Fatalf("malformed field %q", field)
		}
		// Only well-formed CRLF messages are expected to verify: the
		// spool never holds anything else.
		if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) || bytes.ContainsRune(bytes.ReplaceAll(msg, []byte("\r\n"), nil), '\r') {
			return
		}
		vs, err := msgauth.VerifyWithOptions(bytes.NewReader(append([]byte(field), msg...)),
			&msgauth.VerifyOptions{LookupTXT: func(string) ([]string, error) { return []string{rec}, nil }})
		if err != nil {
			return // a header go-msgauth's verifier cannot parse
		}
		// The message may carry signatures of its own; ours is one of them.
		for _, v := range vs {
			if v.Err == nil && v.Domain == "example.com" {
				return
			}
		}
		t.Fatalf("own signature does not verify: %v", vs)
	})
}
