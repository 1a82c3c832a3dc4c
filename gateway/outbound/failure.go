package outbound

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emersion/go-smtp"
)

// failure is a classified delivery error: what every recipient it applies to
// is told.
type failure struct {
	code     int
	enhanced string
	msg      string
	temp     bool
	fromPeer bool
	host     string // peer that answered or failed, "" if none was reached
}

func (f *failure) Error() string {
	return fmt.Sprintf("%d %s %s", f.code, f.enhanced, f.msg)
}

// Local failures, with the RFC 3463 code each maps to.
func tempFailure(enhanced, format string, args ...any) *failure {
	return &failure{code: 451, enhanced: enhanced, msg: fmt.Sprintf(format, args...), temp: true}
}

func permFailure(code int, enhanced, format string, args ...any) *failure {
	return &failure{code: code, enhanced: enhanced, msg: fmt.Sprintf(format, args...)}
}

// classify turns any error from a delivery step into a failure: replies are
// kept as the peer sent them, 5xx are permanent, and everything else
// (4xx, network errors, timeouts, odd replies) is temporary.
func classify(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fromSMTPError(se)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return tempFailure("4.4.2", "timeout talking to peer")
	}
	// Connection resets, EOF and the like: the connection broke.
	return tempFailure("4.4.2", "connection failed: %s", oneLine(err.Error()))
}

func fromSMTPError(se *smtp.SMTPError) *failure {
	class := se.Code / 100
	if class != 5 {
		class = 4 // an unexpected 1xx-3xx reply is treated as a temporary failure
	}
	found, text := stripEnhanced(se.Message, class)
	f := &failure{code: se.Code, msg: text, fromPeer: true, temp: class != 5}
	e := se.EnhancedCode
	switch {
	case e != smtp.NoEnhancedCode && e != (smtp.EnhancedCode{}) && e[0] == class:
		f.enhanced = fmt.Sprintf("%d.%d.%d", e[0], e[1], e[2])
	case found != "":
		f.enhanced = found
	case class == 5:
		f.enhanced = "5.0.0"
	default:
		f.enhanced = "4.0.0"
	}
	return f
}

// stripEnhanced removes the enhanced status code some servers repeat on
// each line of a multi-line reply (go-smtp's server only on the last) and
// returns the first one of the reply's class, with the text on one line.
func stripEnhanced(msg string, class int) (string, string) {
	var found string
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		code, rest, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok {
			code, rest = strings.TrimSpace(l), ""
		}
		var a, b, c int
		if n, _ := fmt.Sscanf(code, "%d.%d.%d", &a, &b, &c); n == 3 && code == fmt.Sprintf("%d.%d.%d", a, b, c) {
			if found == "" && a == class {
				found = code
			}
			lines[i] = rest
		}
	}
	return found, oneLine(strings.Join(lines, "\n"))
}

// oneLine folds a multi-line reply into one header-safe line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
