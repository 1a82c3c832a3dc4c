package detect

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// TestValues are sample numbers published in payment processors' and the
// government's documentation. They pass every check digit, appear in test
// mails, manuals and screenshots, and never belong to a person: configured
// as allowed (detect.allow.test_values, off by default: the gateway fails closed) they cost nobody a
// hold.
func TestValues() []string {
	return []string{
		// Visa, Mastercard, American Express, Discover, Diners, JCB and
		// UnionPay test cards (Stripe, Adyen, PayPal/Braintree, GMO-PG docs).
		"4111111111111111", "4012888888881881", "4222222222222", "4242424242424242",
		"4000056655665556", "4000000000000002", "4000000000003220", "4000002500003155",
		"5555555555554444", "5105105105105100", "2223003122003222", "5200828282828210",
		"378282246310005", "371449635398431", "378734493671000",
		"6011111111111117", "6011000990139424",
		"30569309025904", "38520000023237",
		"3530111333300000", "3566002020360505", "3566111111111113",
		"6200000000000005",
		// The My Number used as the example in the Digital Agency's and
		// local governments' documentation.
		"123456789018",
	}
}

// allowSet holds values that are never findings: compared as written
// (after NFKC and lower case) and, for numbers, by their digits alone, so
// "03-1234-5678" allows 0312345678 however it is written.
type allowSet struct {
	exact  map[string]struct{}
	digits map[string]struct{}
}

// minAllowDigits: shorter digit strings (a room number, a year) would allow
// too much when compared without their separators.
const minAllowDigits = 6

func newAllowSet(values []string) *allowSet {
	if len(values) == 0 {
		return nil
	}
	a := &allowSet{exact: map[string]struct{}{}, digits: map[string]struct{}{}}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		a.exact[string(foldText(v))] = struct{}{}
		if d, ok := numberDigits(norm.NFKC.String(v)); ok {
			a.digits[d] = struct{}{}
		}
	}
	return a
}

// numberDigits returns the digits of a value written only with digits and
// number separators, if it has enough of them.
func numberDigits(v string) (string, bool) {
	var b strings.Builder
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '.' || r == '(' || r == ')' || r == '+' || r == '/' || isDash(r):
		default:
			return "", false
		}
	}
	return b.String(), b.Len() >= minAllowDigits
}

// has reports whether the normalised detector value v is allowed. It runs
// for every value found, so it does not allocate: detector values are
// already normalised (digits, lower-case addresses), and only ASCII case is
// folded here.
func (a *allowSet) has(v []byte) bool {
	if a == nil {
		return false
	}
	var buf [64]byte
	if len(v) <= len(buf) {
		if d, ok := digitsOnly(v, buf[:0]); ok {
			if _, hit := a.digits[string(d)]; hit {
				return true
			}
		}
		low := buf[:0]
		for _, c := range v {
			low = append(low, lowerASCII(c))
		}
		_, hit := a.exact[string(low)]
		return hit
	}
	_, hit := a.exact[string(v)]
	return hit
}

// digitsOnly appends the digits of v to dst when v is written only with
// digits and number separators and has at least minAllowDigits of them.
func digitsOnly(v, dst []byte) ([]byte, bool) {
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			dst = append(dst, c)
		case c == '-' || c == ' ' || c == '.' || c == '(' || c == ')' || c == '+' || c == '/':
		default:
			return nil, false
		}
	}
	return dst, len(dst) >= minAllowDigits
}
