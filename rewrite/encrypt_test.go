package rewrite

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/emersion/go-message/textproto"
	"io"
	"mime"
	"mime/quotedprintable"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/jhillyerd/enmime/v2"
	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/rules"
)

const testPassword = "Tx7-pass-WORD"

// zeroRand makes generated boundaries deterministic in golden files.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

func testOptions() EncryptOptions {
	return EncryptOptions{
		Password: testPassword,
		Modified: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		Rand:     zeroRand{},
		Zip:      aeszip.Options{TempDir: ""},
	}
}

// encCase describes a fixture: the indexes of its top-level parts that
// must be kept byte for byte and the files expected in the zip.
type encCase struct {
	file      string
	keptParts []int
	files     []string
	wrap      bool // top level not multipart/mixed: a new one is made
}

var encCases = []encCase{
	{"enc-japanese.eml", []int{0}, []string{"顧客リスト.csv", "見積書\u30002026年度.pdf", "売上報告（第3四半期）.xlsx"}, false},
	{"enc-nested.eml", []int{0, 4}, []string{"report.pdf", "転送_ 契約書.eml", "notes.txt"}, false},
	{"enc-single.eml", nil, []string{"invoice.pdf"}, true},
	{"enc-apple.eml", []int{0}, []string{"資料.pdf"}, true},
}

func encrypt(t testing.TB, in []byte, opt EncryptOptions) ([]byte, EncryptResult) {
	t.Helper()
	var out bytes.Buffer
	res, err := EncryptAttachments(&out, bytes.NewReader(in), opt)
	if err != nil {
		t.Fatalf("EncryptAttachments: %v", err)
	}
	return out.Bytes(), res
}

var zipBody = regexp.MustCompile(`(?s)(Content-Type: application/zip;.*?(\r?\n)\r?\n)[A-Za-z0-9+/=\r\n]+`)

func TestEncryptGolden(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			in := readFixture(t, c.file)
			out, res := encrypt(t, in, testOptions())
			var names []string
			for _, f := range res.Files {
				names = append(names, f.Name)
			}
			if strings.Join(names, "|") != strings.Join(c.files, "|") {
				t.Errorf("files %q, want %q", names, c.files)
			}
			// The zip bytes carry a random salt: mask them in the golden file.
			masked := zipBody.ReplaceAll(out, []byte("${1}[encrypted zip]${2}"))
			stem := strings.TrimSuffix(c.file, ".eml")
			checkGolden(t, stem+".enc.eml", masked)
			js, _ := json.MarshalIndent(res, "", "  ")
			checkGolden(t, stem+".enc.json", append(js, '\n'))
		})
	}
}

func TestEncryptFaithful(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			in := readFixture(t, c.file)
			out, _ := encrypt(t, in, testOptions())
			checkFaithful(t, c, in, out)
		})
	}
}

// checkFaithful checks that out keeps the top header fields of in (all of
// them for a multipart/mixed top level) and exactly the parts c.keptParts
// of its top-level multipart, byte for byte.
func checkFaithful(t *testing.T, c encCase, in, out []byte) {
	t.Helper()
	n1, r1, b1 := rawFields(t, in)
	n2, r2, _ := rawFields(t, out)
	skip := []string{"Content-Type", "Content-Transfer-Encoding"}
	if c.wrap { // its Content-* fields moved into a part or the zip
		skip = append(skip, "Content-Disposition", "MIME-Version")
	}
	k1, k2 := fieldsExcept(n1, r1, skip...), fieldsExcept(n2, r2, skip...)
	if len(k1) != len(k2) {
		t.Fatalf("%d header fields kept, want %d", len(k2), len(k1))
	}
	for i := range k1 {
		if !bytes.Equal(k1[i], k2[i]) {
			t.Errorf("header field changed: %q -> %q", k1[i], k2[i])
		}
	}
	if c.keptParts == nil {
		return
	}
	if !c.wrap && len(r1) != len(r2) {
		t.Error("multipart/mixed top header must be kept whole")
	}
	for i, n := range n1 {
		if c.wrap && strings.HasPrefix(strings.ToLower(n), "content-") && !bytes.Contains(out, r1[i]) {
			t.Errorf("%s of the wrapped body lost: %q", n, r1[i])
		}
	}
	h := message.Header{}
	for i, n := range n1 {
		if strings.EqualFold(n, "Content-Type") {
			h.AddRaw(r1[i])
		}
	}
	_, params, err := h.ContentType()
	if err != nil {
		t.Fatal(err)
	}
	parts := splitParts(b1, params["boundary"])
	kept := map[int]bool{}
	for _, i := range c.keptParts {
		kept[i] = true
	}
	for i, p := range parts {
		if kept[i] != bytes.Contains(out, p) {
			t.Errorf("part %d: kept=%v but found in output=%v", i, kept[i], !kept[i])
		}
	}
}

// splitParts is a plain textual split of a multipart body, independent of
// the package's scanner: the raw bytes of each part.
func splitParts(body []byte, boundary string) [][]byte {
	eol := "\r\n"
	if !bytes.Contains(body, []byte("\r\n")) {
		eol = "\n"
	}
	d := []byte(eol + "--" + boundary)
	chunks := bytes.Split(append([]byte(eol), body...), d)
	var parts [][]byte
	for _, c := range chunks[1:] {
		if bytes.HasPrefix(c, []byte("--")) {
			break
		}
		parts = append(parts, bytes.TrimPrefix(c, []byte(eol)))
	}
	return parts
}

// zipFromOutput finds the one application/zip part with go-message,
// checks its names and returns the decoded archive.
func zipFromOutput(t testing.TB, out []byte, wantName string) []byte {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var zipData []byte
	first := true
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("go-message: %v", err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("go-message body: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if first {
			first = false
			if ct != "text/plain" || !strings.Contains(string(b), "パスワード") {
				t.Errorf("first part is %s, want the note", ct)
			}
		}
		if ct != "application/zip" {
			continue
		}
		if zipData != nil {
			t.Fatal("two zip parts")
		}
		ah, ok := p.Header.(*mail.AttachmentHeader)
		if !ok {
			t.Fatal("zip part is not an attachment")
		}
		name, err := ah.Filename()
		if err != nil || name != wantName {
			t.Errorf("zip filename %q (%v), want %q", name, err, wantName)
		}
		zipData = b
	}
	if zipData == nil {
		t.Fatal("no zip part")
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("enmime: %v", err)
	}
	for _, e := range env.Errors {
		t.Errorf("enmime: %v", e)
	}
	if len(env.Attachments) != 1 || env.Attachments[0].FileName != wantName ||
		!bytes.Equal(env.Attachments[0].Content, zipData) {
		t.Errorf("enmime sees %d attachments", len(env.Attachments))
	}
	return zipData
}

// expectedFiles decodes the attachments of the input with go-message's
// textproto reader and the standard decoders, independently of the
// package, in document order (charsets untouched).
func expectedFiles(t testing.TB, in []byte) [][]byte {
	t.Helper()
	files, err := decodeAttachments(in)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// decodeAttachments is expectedFiles' walk: the decoded bytes of every part
// the package's documented rule makes an attachment, read with go-message's
// textproto reader and multipart splitter and the standard decoders. Any
// error (a header, a multipart or a body those do not read) is returned:
// the fuzz targets then compare with this reading only where it exists.
func decodeAttachments(in []byte) ([][]byte, error) {
	var files [][]byte
	// class is the parent container: in alternative and related only
	// explicit attachments and named non-text parts other than inline
	// images count.
	var walk func(r *bufio.Reader, class string) error
	walk = func(r *bufio.Reader, class string) error {
		h, err := textproto.ReadHeader(r)
		if err != nil {
			return err
		}
		ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil && err != mime.ErrInvalidMediaParameter {
			// A type that does not parse but names one ("mul=ipart/x",
			// "application/pdf junk") is still that type, so a part
			// under a mixed container goes into the zip, not out in
			// clear; one without a slash is text/plain (RFC 2045 §5.2).
			ct, _, _ = strings.Cut(h.Get("Content-Type"), ";")
			ct = strings.ToLower(strings.TrimSpace(ct))
		}
		if ct == "" || !strings.Contains(ct, "/") {
			ct = "text/plain"
		}
		if ct == "multipart/report" || protectedTypes[ct] {
			return nil // kept whole: a report, a signature, encrypted data
		}
		if strings.HasPrefix(ct, "multipart/") {
			mr := textproto.NewMultipartReader(r, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				var raw bytes.Buffer
				_ = textproto.WriteHeader(&raw, p.Header)
				if _, err := raw.ReadFrom(p); err != nil {
					return err
				}
				sub := "mixed"
				if ct == "multipart/related" || ct == "multipart/alternative" {
					sub = ct
				}
				if err := walk(bufio.NewReader(&raw), sub); err != nil {
					return err
				}
			}
		}
		disp, dp, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
		text := strings.HasPrefix(ct, "text/")
		message := ct == "message/rfc822" || ct == "message/global"
		named := dp["filename"] != "" || params["name"] != ""
		inline := strings.HasPrefix(ct, "image/") && h.Get("Content-Id") != ""
		if !(message || disp == "attachment" ||
			class == "mixed" && (named || !text && !strings.HasPrefix(ct, "message/")) ||
			class != "mixed" && named && !text && !inline) {
			return nil
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		var b []byte
		switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
		case "base64":
			// Line breaks, spaces and tabs are not base64 characters.
			b, err = base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
					return -1
				}
				return r
			}, string(raw)))
		case "quoted-printable":
			b, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		default:
			b = raw
		}
		if err != nil {
			return err
		}
		files = append(files, b)
		return nil
	}
	if err := walk(bufio.NewReader(bytes.NewReader(in)), "mixed"); err != nil {
		return nil, err
	}
	return files, nil
}

func TestEncryptZipContents(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			in := readFixture(t, c.file)
			out, res := encrypt(t, in, testOptions())
			data := zipFromOutput(t, out, res.ZipName)
			if int64(len(data)) != res.ZipSize {
				t.Errorf("zip is %d bytes, result says %d", len(data), res.ZipSize)
			}
			want := expectedFiles(t, in)
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if len(zr.File) != len(want) || len(res.Files) != len(want) {
				t.Fatalf("zip has %d entries, result %d, input %d", len(zr.File), len(res.Files), len(want))
			}
			for i, f := range zr.File {
				var got bytes.Buffer
				if _, err := aeszip.Decrypt(f, testPassword, &got); err != nil {
					t.Fatalf("decrypt %d: %v", i, err)
				}
				if !bytes.Equal(got.Bytes(), want[i]) {
					t.Errorf("entry %d differs from the original attachment", i)
				}
				if aeszip.Name(f) != res.Files[i].Name || res.Files[i].Size != int64(len(want[i])) {
					t.Errorf("result file %d = %+v", i, res.Files[i])
				}
			}
			extractWithTools(t, data, res, want)
		})
	}
}

func TestEncryptSignedRefused(t *testing.T) {
	var out bytes.Buffer
	_, err := EncryptAttachments(&out, bytes.NewReader(readFixture(t, "enc-signed.eml")), testOptions())
	if !errors.Is(err, ErrSignedOrEncrypted) || out.Len() != 0 {
		t.Errorf("err %v, %d bytes written", err, out.Len())
	}
}

func TestEncryptNoAttachments(t *testing.T) {
	for _, f := range []string{"enc-noattach.eml", "bcc-folded.eml", "bcc-groups.eml"} {
		var out bytes.Buffer
		_, err := EncryptAttachments(&out, bytes.NewReader(readFixture(t, f)), testOptions())
		if !errors.Is(err, ErrNoAttachments) || out.Len() != 0 {
			t.Errorf("%s: err %v, %d bytes written", f, err, out.Len())
		}
	}
}

// refusalCases are malformed inputs that EncryptAttachments and
// ReplaceAttachments refuse with the same error.
var refusalCases = map[string]struct {
	in   string
	want error
}{
	"unknown encoding":   {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nabc\r\n--b--\r\n", ErrUnknownEncoding},
	"unterminated":       {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\n\r\nabc\r\n", ErrMalformed},
	"no parts":           {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n", ErrMalformed},
	"no boundary line":   {"Content-Type: multipart/mixed; boundary=b\r\n\r\nnothing here\r\n", ErrMalformed},
	"bad header":         {"Content-Type multipart/mixed\r\n\r\n", ErrMalformed},
	"corrupt base64":     {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAB!@\r\n--b--\r\n", ErrMalformed},
	"no boundary":        {"Content-Type: multipart/mixed\r\n\r\n--b\r\nContent-Type: application/pdf\r\n\r\nx\r\n--b--\r\n", ErrMalformed},
	"nested no boundary": {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/alternative\r\n\r\nx\r\n--b--\r\n", ErrMalformed},
	"too deep":           {deepMessage(20), ErrMalformed},
	"empty subtype":      {"Content-Type: multipart/; boundary=c\n\n--c\nContent-Disposition: attachment\n\nx\n--c--\n", ErrMalformed},
}

func TestEncryptErrorsWriteNothing(t *testing.T) {
	for name, c := range refusalCases {
		var out bytes.Buffer
		_, err := EncryptAttachments(&out, strings.NewReader(c.in), testOptions())
		if !errors.Is(err, c.want) || out.Len() != 0 {
			t.Errorf("%s: err %v, %d bytes written", name, err, out.Len())
		}
	}
	var out bytes.Buffer
	_, err := EncryptAttachments(&out, bytes.NewReader(readFixture(t, "enc-single.eml")), EncryptOptions{})
	if !errors.Is(err, aeszip.ErrNoPassword) || out.Len() != 0 {
		t.Errorf("no password: %v", err)
	}
	_, err = EncryptAttachments(&out, bytes.NewReader(readFixture(t, "enc-single.eml")), EncryptOptions{Password: "x", PasswordDelivery: "pigeon"})
	if err == nil {
		t.Error("unknown delivery accepted")
	}
}

// deepMessage nests n multipart/mixed levels around one attachment.
func deepMessage(n int) string {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: application/pdf\r\n\r\nx\r\n", n-1)
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

func TestEncryptDepthLimit(t *testing.T) {
	_, res := encrypt(t, []byte(deepMessage(maxDepth-1)), testOptions())
	if len(res.Files) != 1 {
		t.Errorf("files %+v", res.Files)
	}
}

// noteOf returns the decoded first part.
func noteOf(t *testing.T, out []byte) string {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEncryptNoteDelivery(t *testing.T) {
	in := readFixture(t, "enc-japanese.eml")
	for mode, want := range map[rules.PasswordDelivery][2]string{
		"":                      {"送信者から別の手段", "The sender will tell you"},
		rules.PasswordRecipient: {"別のメールでお送りします", "separate email"},
		rules.PasswordPreset:    {"共通のパスワード", "shared password"},
	} {
		opt := testOptions()
		opt.PasswordDelivery = mode
		out, res := encrypt(t, in, opt)
		note := noteOf(t, out)
		ja, en := strings.Index(note, want[0]), strings.Index(note, want[1])
		if ja < 0 || en < 0 || ja > en {
			t.Errorf("mode %q: note lacks %q before %q:\n%s", mode, want[0], want[1], note)
		}
		if strings.Contains(note, testPassword) || !strings.Contains(note, res.ZipName) {
			t.Errorf("mode %q: note must name the zip and never the password", mode)
		}
	}
}

// The note follows default_language: English leads when it says so.
func TestEncryptNoteLanguageOrder(t *testing.T) {
	opt := testOptions()
	opt.Language = "en"
	note := noteOf(t, func() []byte { out, _ := encrypt(t, readFixture(t, "enc-japanese.eml"), opt); return out }())
	if en, ja := strings.Index(note, "The sender will tell you"), strings.Index(note, "送信者から別の手段"); en < 0 || ja < 0 || en > ja {
		t.Errorf("English does not lead:\n%s", note)
	}
}

func TestEncryptZipOptionsPassThrough(t *testing.T) {
	opt := testOptions()
	opt.Zip.Encryption = aeszip.ZipCrypto
	opt.Zip.Names = aeszip.CP932
	out, res := encrypt(t, readFixture(t, "enc-japanese.eml"), opt)
	if strings.Contains(noteOf(t, out), "AES-256") {
		t.Error("ZipCrypto note mentions AES-256")
	}
	data := zipFromOutput(t, out, res.ZipName)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range zr.File {
		// Office files and PDFs that do not compress are stored.
		if f.Method != zip.Deflate && f.Method != zip.Store || f.Flags&1 == 0 {
			t.Errorf("entry %d: method %d flags %#x, want ZipCrypto deflate or store", i, f.Method, f.Flags)
		}
		if f.Flags&(1<<11) != 0 {
			t.Errorf("entry %d: UTF-8 flag set in CP932 mode", i)
		}
		if aeszip.Name(f) != res.Files[i].Name {
			t.Errorf("entry %d named %q", i, aeszip.Name(f))
		}
		if _, err := aeszip.Decrypt(f, testPassword, io.Discard); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}
}

func TestZipNames(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "attachment.zip",
		"../../etc/passwd":       "passwd.zip",
		"見積書":                    "見積書.zip",
		strings.Repeat("あ", 100): strings.Repeat("あ", 60) + ".zip",
	} {
		if got := zipName(in); got != want {
			t.Errorf("zipName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"見積書.zip":         "attachments.zip",
		"Report 2026.zip": "Report 2026.zip",
		"報告 Q3.zip":       "Q3.zip",
	} {
		if got := asciiFallback(in); got != want {
			t.Errorf("asciiFallback(%q) = %q, want %q", in, got, want)
		}
	}
}
