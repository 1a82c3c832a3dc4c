package rewrite

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// smallMessage is an encrypt-class mail with one attachment of the given
// name and content, base64 in 76-character lines.
func smallMessage(b testing.TB, name string, data []byte) []byte {
	var msg bytes.Buffer
	msg.WriteString("From: a@example.com\r\nTo: b@partner.co.jp\r\nSubject: =?UTF-8?B?5rOo5paH5pu4?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.Repeat("いつも大変お世話になっております。ご確認のほど、よろしくお願い申し上げます。\r\n", 20) +
		"--b1\r\nContent-Type: application/octet-stream; name=\"" + name + "\"\r\n" +
		"Content-Disposition: attachment; filename=\"" + name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	if err := writeBase64(&msg, bytes.NewReader(data), "\r\n"); err != nil {
		b.Fatal(err)
	}
	msg.WriteString("\r\n--b1--\r\n")
	return msg.Bytes()
}

// benchCSV is n bytes of an order export.
func benchCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("商品コード,品名,数量,単価,金額\r\n")
	x := uint32(88172645)
	for i := 0; b.Len() < n; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		qty, price := 1+x%50, (1+x%300)*1000
		fmt.Fprintf(&b, "P-%05d,%s,%d,%d,%d\r\n", i, []string{"ボルト", "ナット", "ワッシャー", "ケーブル"}[x%4], qty, price, qty*price)
	}
	return b.Bytes()[:n]
}

// benchOffice is an OOXML-like package: deflated XML of about textSize
// bytes plus a stored picture of pic pseudo-random bytes.
func benchOffice(b testing.TB, textSize, pic int) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, _ := zw.Create("[Content_Types].xml")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`))
	w, _ = zw.Create("xl/worksheets/sheet1.xml")
	w.Write([]byte("<worksheet><sheetData>" + strings.ReplaceAll(string(benchCSV(textSize)), "\r\n", "</v></c></row><row><c><v>") + "</sheetData></worksheet>"))
	if pic > 0 {
		w, _ = zw.CreateHeader(&zip.FileHeader{Name: "xl/media/image1.png", Method: zip.Store})
		raw := make([]byte, pic)
		newPRNG(int64(pic)).Read(raw)
		w.Write(raw)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkEncryptKinds rewrites the gateway's common encrypt-class mails:
// one small attachment (CSV text, a small .docx/.xlsx), or a 200 KB .xlsx
// with a picture. Per message the zip's key derivation and per-entry setup
// weigh as much as the bytes.
func BenchmarkEncryptKinds(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"csv-6K", benchCSV(6 << 10)},
		{"xlsx-5K", benchOffice(b, 20<<10, 0)},
		{"xlsx-200K", benchOffice(b, 40<<10, 190<<10)},
	} {
		msg := smallMessage(b, "注文明細.bin", c.data)
		b.Run(c.name, func(b *testing.B) { benchEncrypt(b, msg) })
	}
}
