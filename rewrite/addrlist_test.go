package rewrite

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestBccAddressForms runs one To value per case and checks what stays.
func TestBccAddressForms(t *testing.T) {
	cases := []struct {
		to, want string // want: the To line after the rewrite ("" = dropped)
		moved    int
		err      error
	}{
		{`山田 <yamada@partner.co.jp>, 社内 <in@example.com>`, `To: 社内 <in@example.com>`, 1, nil},
		{"\x8eR\x93c <yamada@partner.co.jp>, \"\x8eR\" <in@example.com>", "To: \"\x8eR\" <in@example.com>", 1, nil},
		{`"a, b" <x@partner.jp>, in@example.com (desk, 2F)`, `To: in@example.com (desk, 2F)`, 1, nil},
		{`"quoted local"@partner.jp, user@[192.0.2.1], in@example.com`, `To: in@example.com`, 2, nil},
		{`<in@example.com>`, `To: <in@example.com>`, 0, nil},
		{`=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@partner.co.jp>`, `To: undisclosed-recipients:;`, 1, nil},
		{`=?X-UNKNOWN?B?AAAA?= <yamada@partner.co.jp>, in@example.com`, `To: in@example.com`, 1, nil},
		{`Team: ;, out@partner.jp`, `To: Team:;`, 1, nil},
		{`out@partner.jp, not an address, in@example.com`, `To: out@partner.jp, not an address, in@example.com`, 0, ErrFieldKept},
		{`out@partner.jp, "unterminated`, `To: out@partner.jp, "unterminated`, 0, ErrFieldKept},
		{``, `To: `, 0, nil},
	}
	for _, c := range cases {
		in := "From: s@example.com\r\nTo: " + c.to + "\r\nSubject: x\r\n\r\nbody\r\n"
		var out bytes.Buffer
		res, err := Bcc(&out, strings.NewReader(in), isExternal)
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%q: err %v, want %v", c.to, err, c.err)
			continue
		}
		if len(res.Moved) != c.moved {
			t.Errorf("%q: moved %v, want %d", c.to, res.Moved, c.moved)
		}
		lines := strings.Split(out.String(), "\r\n")
		if lines[1] != c.want {
			t.Errorf("%q: got %q, want %q", c.to, lines[1], c.want)
		}
		if err != nil && out.String() != in {
			t.Errorf("%q: a kept field must leave the message unchanged", c.to)
		}
	}
}

func TestBccErrorsCarryNoAddresses(t *testing.T) {
	in := "To: secret.person@partner.co.jp, <broken\r\n\r\n"
	_, err := Bcc(&bytes.Buffer{}, strings.NewReader(in), isExternal)
	if err == nil || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "broken") {
		t.Errorf("error %q must exist and not quote the field", err)
	}
}
