package rewrite

import (
	"strings"

	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/templates/i18n"
)

// note is the text part placed first, in every language with
// EncryptOptions.Language leading (keys mail.zip_note.*). It names the zip
// but no attachment (file names can be confidential) and never the
// password.
func (e *encrypter) note() string {
	cat := i18n.MustLoad()
	eol := e.rw.top.eol
	how := "mail.zip_note.sender"
	switch e.opt.PasswordDelivery {
	case rules.PasswordRecipient:
		how = "mail.zip_note.recipient"
	case rules.PasswordPreset:
		how = "mail.zip_note.preset"
	}
	var langs []string
	for _, l := range i18n.Ordered(e.opt.Language) {
		lines := []string{cat.T(l, "mail.zip_note.lead", oneLine(e.res.ZipName)), cat.T(l, how)}
		if e.opt.Zip.Encryption == aeszip.AES256 {
			lines = append(lines, cat.T(l, "mail.zip_note.aes"))
		}
		langs = append(langs, strings.Join(lines, eol)+eol)
	}
	return strings.Join(langs, eol)
}

// oneLine keeps a name on its line of the note.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
