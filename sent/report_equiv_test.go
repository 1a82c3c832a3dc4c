package sent

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/extract"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/spool"
)

// The inspection hashes the files a sent record lists as it reads them
// (rules.Report.AttachmentsHashed); Prepare then takes them from the
// report instead of reading the message again with hashAttachments. These
// tests hold the two to the same record for every message: a walk that
// starts to read a part differently, or a change to what hashAttachments
// lists, fails them.

var (
	inspectorsOnce sync.Once
	inspectors     map[string]*inspect.Inspector
)

// testInspectors: the default limits, and limits small enough that an
// attachment is too large to extract, text is cut and the entry limit
// stops a walk.
func testInspectors(t testing.TB) map[string]*inspect.Inspector {
	inspectorsOnce.Do(func() {
		inspectors = map[string]*inspect.Inspector{}
		small := extract.DefaultLimits()
		small.MaxAttachment, small.MaxMemory, small.MaxPartText, small.MaxEntries = 48<<10, 16<<10, 4<<10, 40
		for name, lim := range map[string]extract.Limits{"default": extract.DefaultLimits(), "small": small} {
			in, err := inspect.New(inspect.Config{InternalDomains: []string{"example.com"}, Limits: lim})
			if err != nil {
				panic(err)
			}
			inspectors[name] = in
		}
	})
	return inspectors
}

// equivalent builds mail's sent record from the inspection's report and by
// reading the message again, fails if they differ, and reports whether the
// report's hashes were used.
func equivalent(t *testing.T, label string, mail []byte, in *inspect.Inspector) bool {
	t.Helper()
	rep, _, err := in.Analyze(context.Background(), bytes.NewReader(mail), inspect.Envelope{})
	if err != nil {
		t.Fatalf("%s: analyse: %v", label, err)
	}
	rj, _ := json.Marshal(rep)
	rec := &spool.Record{ID: "Q1", Kind: spool.KindMail, State: spool.StateDelivered, MailFrom: "a@example.com",
		Size: int64(len(mail)), ReceivedAt: t0, Report: rj,
		Rcpts: []spool.Rcpt{{Addr: "x@partner.test", Status: spool.RcptDelivered}}}
	got := Prepare(rec, t0, bytes.NewReader(mail))

	old := *rep
	old.AttachmentsHashed = false // a report that does not vouch: hashAttachments
	oj, _ := json.Marshal(&old)
	orec := *rec
	orec.Report = oj
	want := Prepare(&orec, t0, bytes.NewReader(mail))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: record from the report differs from the message's:\nreport  %+v %q\nmessage %+v %q\nmail %.2000q",
			label, got.Attachments, got.Date, want.Attachments, want.Date, mail)
	}
	var v reportView
	if err := json.Unmarshal(rj, &v); err != nil {
		t.Fatal(err)
	}
	_, used := reportedFiles(v, rec)
	return used
}

func b64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}

// testXLSX is an OOXML workbook of about size bytes: a sheet and an
// incompressible picture.
func testXLSX(t testing.TB, rng *rand.Rand, size int) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	files := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="注文" sheetId="1"/></sheets></workbook>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>商品コード</t></is></c></row></sheetData></worksheet>`},
	}
	for _, f := range files {
		w, err := z.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.body))
	}
	w, _ := z.CreateHeader(&zip.FileHeader{Name: "xl/media/image1.png", Method: zip.Store})
	pic := make([]byte, size)
	for i := range pic {
		pic[i] = byte(rng.UintN(256))
	}
	w.Write(pic)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// part is one MIME part of a generated mail.
func part(header, body string) string { return header + "\r\n\r\n" + body }

func multipart(sub, boundary string, parts ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Content-Type: multipart/%s; boundary=\"%s\"\r\n\r\npreamble\r\n", sub, boundary)
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n" + p + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String()
}

func mailOf(body string) []byte {
	return []byte("Received: from client (client [192.0.2.1]) by gw\r\nFrom: a@example.com\r\nTo: x@partner.test\r\n" +
		"Subject: =?UTF-8?B?5rOo5paH?=\r\nDate: Tue, 1 Dec 2026 18:00:00 +0900\r\nMIME-Version: 1.0\r\n" + body)
}

func sjis(s string) string {
	b, err := japanese.ShiftJIS.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

// generatedMails are the cases the brief of the report hashes names; fast
// says whether the report must be used (the rest may go either way, as
// long as the records agree).
func generatedMails(t testing.TB) []struct {
	name string
	mail []byte
	fast bool
} {
	rng := rand.New(rand.NewPCG(16, 16))
	xlsx := testXLSX(t, rng, 200<<10)
	small := testXLSX(t, rng, 2<<10)
	text := part("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit", "お世話になっております。\r\n")
	att := func(name, ct string, data []byte) string {
		fn := mime.BEncoding.Encode("UTF-8", name)
		return part(fmt.Sprintf("Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64", ct, fn, fn), b64Lines(data))
	}
	const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	inner := "From: b@example.com\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n" + multipart("mixed", "in", text, att("内側.xlsx", xlsxType, small))
	var many, cap200 []string
	for i := range maxHashedParts + 1 {
		p := part(fmt.Sprintf("Content-Type: application/octet-stream; name=\"f%d.bin\"\r\nContent-Transfer-Encoding: base64", i), b64Lines([]byte{byte(i)}))
		many = append(many, p)
		if i < maxHashedParts {
			cap200 = append(cap200, p)
		}
	}
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = byte(rng.UintN(256))
	}
	good := b64Lines([]byte("hello, world\n"))
	return []struct {
		name string
		mail []byte
		fast bool
	}{
		{"xlsx", mailOf(multipart("mixed", "b1", text, att("注文明細_1.xlsx", xlsxType, xlsx))), true},
		{"sjis-encoded-word", mailOf(multipart("mixed", "b",
			text, part("Content-Type: application/pdf; name=\"=?Shift_JIS?B?"+base64.StdEncoding.EncodeToString([]byte(sjis("資料.pdf")))+"?=\"\r\nContent-Transfer-Encoding: base64", good))), true},
		{"sjis-raw-bytes", mailOf(multipart("mixed", "b",
			text, part("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\""+sjis("見積書.pdf")+"\"\r\nContent-Transfer-Encoding: base64", good))), false},
		{"iso2022jp-encoded-word", mailOf(multipart("mixed", "b",
			text, part("Content-Type: text/csv; name=\"=?ISO-2022-JP?B?GyRCOF04XCVqJTklSBsoQg==?=.csv\"\r\nContent-Transfer-Encoding: base64", good))), true},
		{"rfc2231-utf8", mailOf(multipart("mixed", "b",
			text, part("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''%E8%B3%87%E6%96%99.pdf\r\nContent-Transfer-Encoding: base64", good))), true},
		{"rfc2231-continued", mailOf(multipart("mixed", "b",
			text, part("Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*0*=UTF-8''%E8%B3%87;\r\n filename*1*=%E6%96%99.pdf\r\nContent-Transfer-Encoding: base64", good))), true},
		{"rfc2231-sjis", mailOf(multipart("mixed", "b",
			text, part("Content-Type: application/pdf; name=\"x.pdf\"\r\nContent-Disposition: attachment; filename*=Shift_JIS''%8E%91%97%BF.pdf\r\nContent-Transfer-Encoding: base64", good))), false},
		{"nested", mailOf(multipart("mixed", "o",
			multipart("alternative", "a", text, part("Content-Type: text/html; charset=utf-8", "<p>こんにちは</p>")),
			multipart("mixed", "m", att("a.xlsx", xlsxType, small), multipart("related", "r",
				part("Content-Type: image/png; name=\"logo.png\"\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64", good))),
			att("b.pdf", "application/pdf", []byte("%PDF-1.4 not really")))), true},
		{"rfc822-named", mailOf(multipart("mixed", "b", text, part("Content-Type: message/rfc822; name=\"fwd.eml\"", inner))), true},
		{"rfc822-unnamed", mailOf(multipart("mixed", "b", text, part("Content-Type: message/rfc822", inner), att("z.xlsx", xlsxType, small))), true},
		{"rfc822-base64", mailOf(multipart("mixed", "b", text, part("Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"f.eml\"\r\nContent-Transfer-Encoding: base64", b64Lines([]byte(inner))))), true},
		{"broken-base64-char", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64", "aGVsbG8s!IHdvcmxkCg==\r\n"))), false},
		{"broken-base64-cut", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64", "aGVsbG8sIHdvcmxkC\r\n"))), false},
		{"base64-after-padding", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64", "QQ==\r\nQUFB\r\n"))), false},
		{"base64-url-safe", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64", "-_-_\r\n"))), false},
		{"base64-blanks", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64", "aGVs bG8s\tIHdv \r\ncmxk\r\nCg==  \r\n"))), true},
		{"base64-padding-cr", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64", "QQ==\r\r\r\r\r\nQUFB\r\n"))), false},
		{"duplicate-names", mailOf(multipart("mixed", "b", text, att("同じ.xlsx", xlsxType, small), att("同じ.xlsx", xlsxType, small[:len(small)/2]))), true},
		{"nameless", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64", good),
			part("Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment", "memo\r\n"), att("n.pdf", "application/pdf", []byte("x")))), true},
		{"over-max-parts", mailOf(multipart("mixed", "b", many...)), false},
		{"at-max-parts", mailOf(multipart("mixed", "b", cap200...)), true},
		{"too-large", mailOf(multipart("mixed", "b", text, att("big.zip", "application/zip", big))), true},
		{"qp", mailOf(multipart("mixed", "b", text, part("Content-Type: text/plain; charset=utf-8; name=\"q.txt\"\r\nContent-Transfer-Encoding: quoted-printable", "a=3Db=\r\nc\r\n"))), false},
		{"csv-sjis", mailOf(multipart("mixed", "b", text, part("Content-Type: text/csv; charset=Shift_JIS; name=\"c.csv\"\r\nContent-Transfer-Encoding: base64", b64Lines([]byte(sjis("氏名,電話\r\n")))))), false},
		{"csv-utf8", mailOf(multipart("mixed", "b", text, part("Content-Type: text/csv; charset=UTF-8; name=\"c.csv\"\r\nContent-Transfer-Encoding: 8bit", "氏名,電話\r\n"))), true},
		{"unknown-cte", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: x-uuencode", "begin 644 a\r\n"))), false},
		{"cte-trailing-blank", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64 ", good))), true},
		{"root-repeated-ctype", []byte("Content-Type:\nContent-Type: application/pdf; name=a.pdf\n\nx"), false},
		{"single-part-file", mailOf("Content-Type: application/pdf; name=\"only.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + good), true},
		{"no-final-boundary", mailOf(strings.TrimSuffix(multipart("mixed", "b", text, att("a.xlsx", xlsxType, small)), "--b--\r\n")), false},
		{"bad-part-header", mailOf(multipart("mixed", "b", text, "Content-Type: application/pdf; name=\"a.pdf\"\r\nbroken header line\r\n\r\n"+good)), false},
		{"named-multipart", mailOf(multipart("mixed", "b", text, "Content-Disposition: attachment; filename=\"m.eml\"\r\n"+multipart("mixed", "c", att("x.pdf", "application/pdf", []byte("x"))))), false},
		{"boundary-empty", mailOf(multipart("mixed", "b", text, "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\nx\r\n----\r\n")), false},
		{"ctype-unparsable", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf; name=\"a.pdf\"; name=\"b.pdf\"\r\nContent-Disposition: attachment; filename=c.pdf\r\nContent-Transfer-Encoding: base64", good))), false},
		{"name-with-blanks", mailOf(multipart("mixed", "b", text, part("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\" a.pdf \"\r\nContent-Transfer-Encoding: base64", good))), false},
	}
}

func TestReportHashesGenerated(t *testing.T) {
	for _, in := range []string{"default", "small"} {
		for _, c := range generatedMails(t) {
			used := equivalent(t, c.name+"/"+in, c.mail, testInspectors(t)[in])
			if in == "default" && used != c.fast {
				t.Errorf("%s: report hashes used %v, want %v", c.name, used, c.fast)
			}
		}
	}
}

func TestReportHashesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	n, used := 1000, 0
	if testing.Short() {
		n = 200
	}
	for i := range n {
		if equivalent(t, fmt.Sprint("random ", i), randomMessage(rng), testInspectors(t)["default"]) {
			used++
		}
	}
	// the generator's mails are mostly broken on purpose; enough are not
	if used < n/10 {
		t.Errorf("report hashes used for %d of %d random mails", used, n)
	}
	t.Logf("report hashes used for %d of %d random mails", used, n)
}

// TestReportHashesFixtures: the repository's mails of the rules' golden
// tests (Japanese names and charsets, zips, PDF, Office files).
func TestReportHashesFixtures(t *testing.T) {
	files, _ := filepath.Glob("../testdata/rules/*.eml")
	if len(files) < 10 {
		t.Fatalf("%d fixtures", len(files))
	}
	used := 0
	for _, p := range files {
		mail, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if equivalent(t, p, mail, testInspectors(t)["default"]) {
			used++
		}
		equivalent(t, p+"/small", mail, testInspectors(t)["small"])
	}
	if used < len(files)/2 {
		t.Errorf("report hashes used for %d of %d fixtures", used, len(files))
	}
}

// TestReportHashesCorpus: the public corpus of real-world and malformed
// mail (SENDGUARD_CORPUS, by default the shared checkout when present).
func TestReportHashesCorpus(t *testing.T) {
	root := os.Getenv("SENDGUARD_CORPUS")
	if root == "" {
		root = "/work/shared/corpus/public"
		if _, err := os.Stat(root); err != nil {
			t.Skip("corpus not present (set SENDGUARD_CORPUS)")
		}
	}
	files, used := 0, 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".gitattributes") {
			return err
		}
		mail, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, in := range []string{"default", "small"} {
			if equivalent(t, p+"/"+in, mail, testInspectors(t)[in]) && in == "default" {
				used++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 || used < 20 {
		t.Errorf("%d corpus files, report hashes used for %d", files, used)
	}
	t.Logf("%d corpus files, report hashes used for %d", files, used)
}

// A report of another body (its size differs), or one that does not vouch
// for its hashes, is not used.
func TestReportHashesNotTrusted(t *testing.T) {
	mail := generatedMails(t)[0].mail
	rep, _, err := testInspectors(t)["default"].Analyze(context.Background(), bytes.NewReader(mail), inspect.Envelope{})
	if err != nil || !rep.AttachmentsHashed {
		t.Fatal(err, rep.AttachmentsHashed)
	}
	view := func(r *rules.Report) reportView {
		b, _ := json.Marshal(r)
		var v reportView
		json.Unmarshal(b, &v)
		return v
	}
	if _, ok := reportedFiles(view(rep), &spool.Record{Size: int64(len(mail))}); !ok {
		t.Fatal("report not used")
	}
	if _, ok := reportedFiles(view(rep), &spool.Record{Size: int64(len(mail)) + 1}); ok {
		t.Error("report of another size used")
	}
	rep.AttachmentsHashed = false
	if _, ok := reportedFiles(view(rep), &spool.Record{Size: int64(len(mail))}); ok {
		t.Error("report without attachments_hashed used")
	}
}

// FuzzReportHashes: for any message, the record from the report is the
// record from the message.
func FuzzReportHashes(f *testing.F) {
	for _, c := range generatedMails(f) {
		if len(c.mail) < 8<<10 {
			f.Add(c.mail)
		}
	}
	rng := rand.New(rand.NewPCG(16, 18))
	for range 5 {
		f.Add(randomMessage(rng))
	}
	f.Fuzz(func(t *testing.T, mail []byte) { equivalent(t, "fuzz", mail, testInspectors(t)["default"]) })
}

// richPart writes a random entity with the variety of names, types and
// encodings real mail has: RFC 2047 and 2231 names in UTF-8, Shift_JIS
// and ISO-2022-JP, raw 8-bit names, attached messages, repeated fields,
// and now and then a corrupt body.
func richPart(rng *rand.Rand, b *strings.Builder, depth int) {
	if depth < 3 && rng.IntN(4) == 0 {
		bd := fmt.Sprintf("r%d_%d", depth, rng.IntN(1000))
		sub := []string{"mixed", "alternative", "related", "report"}[rng.IntN(4)]
		fmt.Fprintf(b, "Content-Type: multipart/%s;\r\n boundary=\"%s\"\r\n\r\n", sub, bd)
		for range 1 + rng.IntN(4) {
			b.WriteString("--" + bd + "\r\n")
			richPart(rng, b, depth+1)
			b.WriteString("\r\n")
		}
		if rng.IntN(12) != 0 {
			b.WriteString("--" + bd + "--\r\n")
		}
		return
	}
	names := []string{"注文明細.xlsx", "見積書 (1).pdf", "data.csv", "報告.docx", "a;b.txt", " spaced.pdf", "long" + strings.Repeat("名", 30) + ".zip"}
	name := names[rng.IntN(len(names))]
	var nameParam string
	switch rng.IntN(8) {
	case 0:
		nameParam = "=" + fmt.Sprintf("%q", name)
	case 1:
		nameParam = `="` + mime.BEncoding.Encode("UTF-8", name) + `"`
	case 2:
		nameParam = `="=?Shift_JIS?B?` + base64.StdEncoding.EncodeToString([]byte(sjis(strings.TrimSpace(name)))) + `?="`
	case 3:
		nameParam = `="` + sjis(strings.TrimSpace(name)) + `"`
	case 7:
		nameParam = "=data.csv"
	case 4:
		nameParam = "*=UTF-8''" + strings.ReplaceAll(url.PathEscape(name), ";", "%3B")
	case 5:
		nameParam = "*=Shift_JIS''" + url.PathEscape(sjis(strings.TrimSpace(name)))
	case 6:
		nameParam = ""
	}
	kind := rng.IntN(10)
	ct := []string{"application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv", "text/plain; charset=utf-8",
		"text/csv; charset=Shift_JIS", "application/octet-stream", "image/png", "TEXT/Plain; Charset=\"UTF-8\""}[rng.IntN(8)]
	if kind == 0 {
		ct = "message/rfc822"
	}
	key := map[bool]string{true: "filename", false: "name"}[rng.IntN(2) == 0]
	if nameParam != "" && key == "name" {
		fmt.Fprintf(b, "Content-Type: %s; name%s\r\n", ct, nameParam)
	} else {
		fmt.Fprintf(b, "Content-Type: %s\r\n", ct)
	}
	if nameParam != "" && key == "filename" {
		fmt.Fprintf(b, "Content-Disposition: %s; filename%s\r\n", []string{"attachment", "inline", "Attachment"}[rng.IntN(3)], nameParam)
	} else if rng.IntN(4) == 0 {
		b.WriteString("Content-Disposition: attachment\r\n")
	}
	if rng.IntN(30) == 0 {
		fmt.Fprintf(b, "Content-Type: application/x-second\r\n") // repeated field
	}
	var body []byte
	if kind == 0 {
		var inner strings.Builder
		inner.WriteString("From: b@example.com\r\nSubject: =?UTF-8?B?6Lui6YCB?=\r\nMIME-Version: 1.0\r\n")
		richPart(rng, &inner, depth+1)
		body = []byte(inner.String())
	} else {
		body = make([]byte, rng.IntN(4000))
		for i := range body {
			body[i] = byte(rng.UintN(256))
		}
		if strings.HasPrefix(strings.ToLower(ct), "text/") {
			body = []byte(strings.Repeat("氏名,電話\r\n", 1+rng.IntN(50)))
		}
	}
	cte := []string{"base64", "base64", "base64", "Base64", "7bit", "8bit", "", "quoted-printable"}[rng.IntN(8)]
	if kind == 0 && rng.IntN(2) == 0 {
		cte = ""
	}
	if cte != "" {
		b.WriteString("Content-Transfer-Encoding: " + cte + "\r\n")
	}
	b.WriteString("\r\n")
	switch strings.ToLower(cte) {
	case "base64":
		enc := b64Lines(body)
		if rng.IntN(15) == 0 {
			k := rng.IntN(len(enc) + 1)
			enc = enc[:k] + []string{"!", "=", "-", "QQ==\r\n", " "}[rng.IntN(5)] + enc[k:]
		}
		b.WriteString(enc)
	case "quoted-printable":
		b.WriteString(strings.ReplaceAll(string(body), "=", "=3D"))
	default:
		if kind != 0 && !strings.HasPrefix(strings.ToLower(ct), "text/") {
			body = []byte(strings.ReplaceAll(base64.StdEncoding.EncodeToString(body), "A", "\r\n"))
		}
		b.Write(body)
	}
}

func TestReportHashesRich(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 20))
	n, used := 1500, 0
	if testing.Short() {
		n = 300
	}
	for i := range n {
		var b strings.Builder
		richPart(rng, &b, 0)
		if equivalent(t, fmt.Sprint("rich ", i), mailOf(b.String()), testInspectors(t)["default"]) {
			used++
		}
	}
	if used < n/5 {
		t.Errorf("report hashes used for %d of %d mails", used, n)
	}
	t.Logf("report hashes used for %d of %d mails", used, n)
}
