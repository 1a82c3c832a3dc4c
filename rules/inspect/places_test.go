package inspect

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"

	"github.com/sendguard/sendguard/rules"
)

// Mail built in the tests: a top header, then MIME parts.
type mailPart struct {
	header string // Content-Type and Content-Disposition lines
	body   []byte // sent base64-encoded
}

func buildMail(subjectHeader string, parts ...mailPart) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nTo: x@partner.test\r\n")
	if subjectHeader != "" {
		b.WriteString("Subject: " + subjectHeader + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"bnd\"\r\n\r\n")
	b.WriteString("--bnd\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nご確認ください。\r\n")
	for _, p := range parts {
		b.WriteString("--bnd\r\n" + p.header + "Content-Transfer-Encoding: base64\r\n\r\n")
		b.WriteString(base64.StdEncoding.EncodeToString(p.body) + "\r\n")
	}
	b.WriteString("--bnd--\r\n")
	return b.String()
}

func encodeWith(t *testing.T, e encoding.Encoding, s string) string {
	t.Helper()
	out, err := e.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func zipOf(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		// Names that are not valid UTF-8 are stored as written, without the
		// UTF-8 flag, as Japanese Windows archivers do.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Deflate, NonUTF8: !isUTF8(e[0])})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func docxWithProps(t *testing.T, title, keywords string) []byte {
	t.Helper()
	return zipOf(t,
		[2]string{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`},
		[2]string{"word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>議事録</w:t></w:r></w:p></w:body></w:document>`},
		[2]string{"docProps/core.xml", `<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>` + title + `</dc:title><dc:creator>山田 機密太郎</dc:creator><cp:keywords>` + keywords + `</cp:keywords></cp:coreProperties>`},
		[2]string{"docProps/custom.xml", `<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="MSIP_Label_0a1b_Name"><vt:lpwstr>Highly Confidential</vt:lpwstr></property><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="MSIP_Label_0a1b_SiteId"><vt:lpwstr>0312345678</vt:lpwstr></property></Properties>`},
	)
}

func xlsxWithSheet(t *testing.T, sheet, title string) []byte {
	t.Helper()
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: title}); err != nil {
		t.Fatal(err)
	}
	f.SetSheetRow(sheet, "A1", &[]any{"品番", "単価"})
	f.SetSheetRow(sheet, "A2", &[]any{"A-100", 1200})
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// myNumber completes 11 digits with their check digit.
func myNumber(first11 string) string {
	sum := 0
	for n := 1; n <= 11; n++ {
		p := int(first11[11-n] - '0')
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += p * q
	}
	cd := 11 - sum%11
	if sum%11 <= 1 {
		cd = 0
	}
	return fmt.Sprintf("%s%d", first11, cd)
}

// Every place a person writes text is scanned, in every encoding a mailer
// uses for it, and the finding names the place.
func TestTextOutsideTheBody(t *testing.T) {
	sjis := japanese.ShiftJIS
	mn := myNumber("84708026962")
	tests := []struct {
		name     string
		msg      string
		detector string
		location string
	}{
		{"subject RFC 2047 ISO-2022-JP", buildMail("=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString([]byte(encodeWith(t, japanese.ISO2022JP, "【社外秘】来期価格"))) + "?="),
			"keyword", "subject"},
		{"subject RFC 2047 UTF-8 Q", buildMail(mime.QEncoding.Encode("UTF-8", "取扱注意: 見積")), "keyword", "subject"},
		{"subject raw ISO-2022-JP", buildMail(encodeWith(t, japanese.ISO2022JP, "極秘 人事案")), "keyword", "subject"},
		{"subject raw Shift_JIS", buildMail(encodeWith(t, sjis, "関係者外秘の件")), "keyword", "subject"},
		{"subject full-width label", buildMail(mime.BEncoding.Encode("UTF-8", "ＣＯＮＦＩＤＥＮＴＩＡＬ：価格表")), "keyword", "subject"},
		{"subject carries a My Number", buildMail(mime.BEncoding.Encode("UTF-8", "マイナンバー "+mn+" の件")), "mynumber", "subject"},
		{"filename RFC 2231 UTF-8", buildMail("資料", mailPart{
			header: "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=UTF-8''" +
				url.PathEscape("【社外秘】価格表.txt") + "\r\n", body: []byte("price list")}),
			"keyword", "filename:【社外秘】価格表.txt"},
		{"filename RFC 2231 ISO-2022-JP continuation", buildMail("資料", mailPart{
			header: "Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n filename*0*=ISO-2022-JP''" +
				strings.ReplaceAll(url.QueryEscape(encodeWith(t, japanese.ISO2022JP, "機密")), "+", "%20") +
				";\r\n filename*1*=%2Etxt\r\n", body: []byte("x")}),
			"keyword", "filename:機密.txt"},
		{"filename RFC 2047 in name", buildMail("資料", mailPart{
			header: "Content-Type: text/plain; name=\"" + mime.BEncoding.Encode("UTF-8", "取扱注意_名簿.txt") + "\"\r\n", body: []byte("a")}),
			"keyword", "filename:取扱注意_名簿.txt"},
		{"filename raw Shift_JIS", buildMail("資料", mailPart{
			header: "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"" +
				encodeWith(t, sjis, "極秘資料.txt") + "\"\r\n", body: []byte("a")}),
			"keyword", "filename:極秘資料.txt"},
		{"zip member CP932 name", buildMail("資料", mailPart{
			header: "Content-Type: application/zip\r\nContent-Disposition: attachment; filename=files.zip\r\n",
			body:   zipOf(t, [2]string{encodeWith(t, sjis, "部外秘/売上.txt"), "売上"})}),
			"keyword", "filename:files.zip/部外秘/売上.txt"},
		{"zip member UTF-8 name", buildMail("資料", mailPart{
			header: "Content-Type: application/zip\r\nContent-Disposition: attachment; filename=files.zip\r\n",
			body:   zipOf(t, [2]string{"社外秘_顧客.txt", "a"})}),
			"keyword", "filename:files.zip/社外秘_顧客.txt"},
		{"docx title", buildMail("資料", mailPart{
			header: "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\nContent-Disposition: attachment; filename=minutes.docx\r\n",
			body:   docxWithProps(t, "関係者外秘 経営会議", "")}),
			"keyword", "attachment:minutes.docx"},
		{"docx sensitivity label", buildMail("資料", mailPart{
			header: "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.docx\r\n",
			body:   docxWithProps(t, "議事録", "")}),
			"keyword", "attachment:a.docx"},
		{"xlsx sheet name", buildMail("資料", mailPart{
			header: "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=book.xlsx\r\n",
			body:   xlsxWithSheet(t, "取扱注意", "")}),
			"keyword", "attachment:book.xlsx"},
		{"xlsx title", buildMail("資料", mailPart{
			header: "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=book.xlsx\r\n",
			body:   xlsxWithSheet(t, "Sheet1", "極秘 価格")}),
			"keyword", "attachment:book.xlsx"},
		{"PDF title", buildMail("資料", mailPart{
			header: "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=q.pdf\r\n",
			body: []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n2 0 obj << /Title (Strictly Confidential) >> endobj\n" +
				"trailer << /Root 1 0 R /Info 2 0 R >>\n%%EOF\n")}),
			"keyword", "attachment:q.pdf"},
	}
	in := newTest(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, _, err := in.Analyze(context.Background(), strings.NewReader(tc.msg), Envelope{})
			if err != nil {
				t.Fatal(err)
			}
			if !hasFinding(rep, tc.detector, tc.location) {
				t.Fatalf("no %s finding at %q; findings %+v errors %v", tc.detector, tc.location, rep.Findings, rep.Errors)
			}
		})
	}
}

// Author names and label ids are properties too, but not text to scan: a
// colleague called 機密太郎 does not make a document confidential.
func TestPropertiesLeaveOutAuthorsAndIDs(t *testing.T) {
	msg := buildMail("議事録", mailPart{
		header: "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.docx\r\n",
		body: zipOf(t,
			[2]string{"[Content_Types].xml", `<Types/>`},
			[2]string{"word/document.xml", `<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>議事録</w:t></w:r></w:p></w:body></w:document>`},
			[2]string{"docProps/core.xml", `<cp:coreProperties xmlns:cp="c" xmlns:dc="d"><dc:title>定例会</dc:title><dc:creator>機密 太郎</dc:creator><cp:lastModifiedBy>極秘 花子</cp:lastModifiedBy></cp:coreProperties>`},
			[2]string{"docProps/custom.xml", `<Properties xmlns:vt="v"><property name="MSIP_Label_x_SiteId"><vt:lpwstr>0312345678</vt:lpwstr></property></Properties>`},
		)})
	rep, _, err := newTest(t).Analyze(context.Background(), strings.NewReader(msg), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Location == "attachment:a.docx" {
			t.Errorf("finding from an author name or an id: %+v", f)
		}
	}
}

// An ordinary subject and file name find nothing.
func TestPlainNamesFindNothing(t *testing.T) {
	msg := buildMail(mime.BEncoding.Encode("UTF-8", "来週の打ち合わせ 2026-04-01"), mailPart{
		header: "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"agenda_20260401.txt\"\r\n", body: []byte("議題")})
	rep, _, err := newTest(t).Analyze(context.Background(), strings.NewReader(msg), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 {
		t.Fatalf("findings in plain names: %+v", rep.Findings)
	}
}

func hasFinding(rep *rules.Report, detector, location string) bool {
	for _, f := range rep.Findings {
		if f.Detector == detector && f.Location == location {
			return true
		}
	}
	return false
}
