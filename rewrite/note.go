package rewrite

import (
	"strings"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// note is the text part placed first: Japanese, then English. It names
// the zip but no attachment (file names can be confidential) and never the
// password.
func (e *encrypter) note() string {
	eol := e.rw.top.eol
	var ja, en []string
	ja = append(ja, "このメールの添付ファイルは、誤送信対策のためパスワード付きZIPファイル「"+e.res.ZipName+"」にまとめて暗号化されています。")
	en = append(en, "The attachments of this message have been protected: they were put into the password-protected ZIP file \""+e.res.ZipName+"\".")
	switch e.opt.PasswordDelivery {
	case DeliveryRecipient:
		ja = append(ja, "パスワードは別のメールでお送りします。")
		en = append(en, "The password will follow in a separate email.")
	case DeliveryPreset:
		ja = append(ja, "パスワードは貴社と事前に取り決めた共通のパスワードです。")
		en = append(en, "The password is the shared password agreed in advance with your organisation.")
	default:
		ja = append(ja, "パスワードは送信者から別の手段（電話など）でお知らせします。")
		en = append(en, "The sender will tell you the password by another channel (for example by phone).")
	}
	if e.opt.Zip.Encryption == aeszip.AES256 {
		ja = append(ja, "AES-256で暗号化されているため、Windows標準のZIP機能では開けません。7-Zip等をご利用ください。")
		en = append(en, "It is encrypted with AES-256, which the built-in ZIP support of Windows cannot open; please use 7-Zip or a similar tool.")
	}
	return strings.Join(ja, eol) + eol + eol + strings.Join(en, eol) + eol
}
