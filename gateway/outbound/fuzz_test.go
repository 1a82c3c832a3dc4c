package outbound

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// FuzzReplyClassification checks that any peer reply becomes a one-line
// message with a well-formed enhanced code of the reply's class, and that
// only 5xx is permanent.
func FuzzReplyClassification(f *testing.F) {
	f.Add(550, "5.1.1 no such user\n5.1.1 second line")
	f.Add(451, "no enhanced code\r\n4.3.0 last")
	f.Add(250, "")
	f.Add(354, "3.0.0 odd")
	f.Add(554, "9.9.9 wrong class\x00")
	f.Fuzz(func(t *testing.T, code int, msg string) {
		fl := fromSMTPError(&smtp.SMTPError{Code: code, Message: msg, EnhancedCode: smtp.NoEnhancedCode})
		if strings.ContainsAny(fl.msg, "\r\n") {
			t.Fatalf("message not on one line: %q", fl.msg)
		}
		if fl.temp == (code/100 == 5) {
			t.Fatalf("code %d temporary=%v", code, fl.temp)
		}
		want := "4"
		if code/100 == 5 {
			want = "5"
		}
		parts := strings.Split(fl.enhanced, ".")
		if len(parts) != 3 || parts[0] != want {
			t.Fatalf("code %d got enhanced %q", code, fl.enhanced)
		}
	})
}

func FuzzParseNextHop(f *testing.F) {
	for _, s := range []string{"mx", "relay.example:25", "[relay.example]:587", "[::1]:25", "1.2.3.4", "[", "a:b:c", "[]", "[]:25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseNextHop(s, 25)
		if err != nil {
			return
		}
		if !h.mx && (h.host == "" || h.port <= 0 || h.port > 65535) {
			t.Fatalf("%q parsed to %+v", s, h)
		}
	})
}

// FuzzEnhancedCode checks enhancedCode against the fmt.Sscanf it
// shortcuts.
func FuzzEnhancedCode(f *testing.F) {
	for _, s := range []string{"2.0.0", "2.0.0x", "5.7.1", "250", "2.0", "2..0", "+2.0.0", "2.0.-1", "1234.0.0", "2.0.0.0",
		"99999999999999999999.0.0", "2_0.0.0", " 2.0.0", "", "2.0.", ".0.0", "002.000.000", "2.0.0\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		var a, b, c int
		n, _ := fmt.Sscanf(code, "%d.%d.%d", &a, &b, &c)
		if got := enhancedCode(code); got != (n == 3) {
			t.Fatalf("enhancedCode(%q) = %v, Sscanf scanned %d", code, got, n)
		}
	})
}
