package front

import (
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/rules/address"
)

// envelopeAddress checks a MAIL FROM or RCPT TO path as go-smtp passes it
// (local part unquoted) with the parser that analysis and delivery use, and
// returns its wire form: the local part re-quoted when it needs quotes, so
// that a quoted local part stays quoted on relay.
func (s *session) envelopeAddress(path string, smtputf8, rcpt bool) (address.Address, *smtp.SMTPError) {
	bad, notUTF8 := errBadSender, errSenderNotUTF8
	if rcpt {
		bad, notUTF8 = errBadRcpt, errRcptNotUTF8
	}
	if !utf8.ValidString(path) {
		return address.Address{}, notUTF8
	}
	a, err := address.FromSMTP(path)
	if err != nil {
		return a, bad
	}
	if !a.ASCII() && !smtputf8 {
		return a, errNeedSMTPUTF8
	}
	if rcpt && a.Routed() && s.srv.cfg.SMTP.RoutedAddresses != "external" {
		return a, routedRcpt(a.Routing.String())
	}
	return a, nil
}
