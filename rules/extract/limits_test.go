package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

// buildMail assembles a multipart/mixed message from raw parts
// ("header\r\n\r\nbody").
func buildMail(parts ...string) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.com\r\nTo: b@partner.co.jp\r\nSubject: test\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\n\r\n")
	for _, p := range parts {
		b.WriteString("--BOUNDARY\r\n" + p + "\r\n")
	}
	b.WriteString("--BOUNDARY--\r\n")
	return b.Bytes()
}

func attachPart(name, ctype string, data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	return fmt.Sprintf("Content-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s", ctype, name, b.String())
}

func zipOf(t testing.TB, entries ...[2]any) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		var data []byte
		switch v := e[1].(type) {
		case string:
			data = []byte(v)
		case []byte:
			data = v
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// digits is poorly compressible text (ratio about 2:1).
func digits(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = '0' + byte(x%10)
		if i%80 == 79 {
			b[i] = '\n'
		}
	}
	return b
}

func TestLimitPartText(t *testing.T) {
	body := strings.Repeat("山田太郎 090-1111-2222\n", 1000)
	msg := "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
	lim := DefaultLimits()
	lim.MaxPartText = 1000
	m, parts := walkBytes(t, []byte(msg), lim)
	if len(parts) != 1 || !parts[0].Truncated || len(parts[0].Text) > 1000 || len(parts[0].Text) < 990 {
		t.Fatalf("parts %d truncated %v len %d", len(parts), parts[0].Truncated, len(parts[0].Text))
	}
	if !strings.HasPrefix(string(parts[0].Text), "山田太郎") || !utf8Valid(parts[0].Text) {
		t.Errorf("text cut badly: %q", parts[0].Text[len(parts[0].Text)-10:])
	}
	wantError(t, m, "text cut at 1000 bytes")
	if m.Size != int64(len(msg)) {
		t.Errorf("size %d, want %d (the rest must still be read)", m.Size, len(msg))
	}
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

func TestLimitEntries(t *testing.T) {
	var ps []string
	for i := range 20 {
		ps = append(ps, attachPart(fmt.Sprintf("f%02d.txt", i), "text/plain", []byte("hello")))
	}
	lim := DefaultLimits()
	lim.MaxEntries = 5
	m, parts := walkBytes(t, buildMail(ps...), lim)
	if !m.Incomplete || len(parts) != 5 {
		t.Errorf("incomplete %v, %d parts", m.Incomplete, len(parts))
	}
	wantError(t, m, "entry limit (5) reached")
}

func TestLimitDepth(t *testing.T) {
	inner := zipOf(t, [2]any{"secret.csv", "name,phone\nyamada,090-1111-2222\n"})
	for range 4 {
		inner = zipOf(t, [2]any{"nested.zip", inner})
	}
	lim := DefaultLimits()
	lim.MaxDepth = 2
	m, parts := walkBytes(t, buildMail(attachPart("outer.zip", "application/zip", inner)), lim)
	wantLocations(t, parts, "attachment:outer.zip/nested.zip/nested.zip", "attachment:outer.zip/nested.zip", "attachment:outer.zip")
	deep := parts[0]
	if deep.Attachment.Depth != 2 || !strings.Contains(deep.Unscannable, "nesting deeper than 2") {
		t.Errorf("deep %+v", deep.Attachment)
	}
	wantNoErrors(t, m)
	lim.MaxDepth = 5
	_, parts = walkBytes(t, buildMail(attachPart("outer.zip", "application/zip", inner)), lim)
	last := part(t, parts, "attachment:outer.zip/nested.zip/nested.zip/nested.zip/nested.zip/secret.csv", 0)
	wantText(t, last, "yamada,090-1111-2222")
}

func TestLimitInflated(t *testing.T) {
	z := zipOf(t, [2]any{"a.txt", digits(100 << 10)}, [2]any{"b.txt", digits(100 << 10)}, [2]any{"c.txt", digits(100 << 10)})
	lim := DefaultLimits()
	lim.MaxInflated = 150 << 10
	_, parts := walkBytes(t, buildMail(attachPart("x.zip", "application/zip", z)), lim)
	a := part(t, parts, "attachment:x.zip/a.txt", 0)
	b := part(t, parts, "attachment:x.zip/b.txt", 0)
	c := part(t, parts, "attachment:x.zip/c.txt", 0)
	if a.Unscannable != "" || len(a.Text) != 100<<10 {
		t.Errorf("a: %q %d", a.Unscannable, len(a.Text))
	}
	if !strings.Contains(b.Unscannable, "inflated size over") || !strings.Contains(c.Unscannable, "inflated size over") {
		t.Errorf("b %q c %q", b.Unscannable, c.Unscannable)
	}
}

// A zip whose directory understates an entry's size must still be caught
// by the bytes actually inflated.
func TestLimitRatioLyingHeader(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "big.txt", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(make([]byte, 8<<20))
	_ = zw.Close()
	raw := b.Bytes()
	// patch the central directory's uncompressed size (offset 24 in the
	// central header) to look harmless
	cd := bytes.LastIndex(raw, []byte("PK\x01\x02"))
	copy(raw[cd+24:], []byte{0x00, 0x10, 0x00, 0x00})
	_, parts := walkBytes(t, buildMail(attachPart("lie.zip", "application/zip", raw)), DefaultLimits())
	p := part(t, parts, "attachment:lie.zip/big.txt", 0)
	if p.Unscannable == "" {
		t.Errorf("lying entry read: %d bytes", len(p.Text))
	}
}

func TestCallbackError(t *testing.T) {
	errBoom := errors.New("boom")
	data, _ := os.ReadFile(fixtureDir + "/zip-csv.eml")
	n := 0
	m, err := Walk(context.Background(), bytes.NewReader(data), Limits{}, func(p *Part) error {
		n++
		if n == 2 {
			return errBoom
		}
		return nil
	})
	if !errors.Is(err, errBoom) || n != 2 || m == nil {
		t.Errorf("err %v after %d parts", err, n)
	}
}

func TestCallerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data, _ := os.ReadFile(fixtureDir + "/zip-csv.eml")
	_, err := Walk(ctx, bytes.NewReader(data), Limits{}, func(*Part) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
}

// slowReader hands out a few bytes per read, slowly.
type slowReader struct {
	r     io.Reader
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	if len(p) > 512 {
		p = p[:512]
	}
	return s.r.Read(p)
}

func TestLimitTimeout(t *testing.T) {
	data := buildMail(attachPart("a.txt", "text/plain", digits(64<<10)), attachPart("b.txt", "text/plain", digits(64<<10)))
	lim := DefaultLimits()
	lim.Timeout = 100 * time.Millisecond
	start := time.Now()
	var parts int
	m, err := Walk(context.Background(), &slowReader{r: bytes.NewReader(data), delay: 5 * time.Millisecond}, lim, func(*Part) error {
		parts++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	if !m.Incomplete || m.Size >= int64(len(data)) {
		t.Errorf("incomplete %v size %d of %d", m.Incomplete, m.Size, len(data))
	}
	wantError(t, m, "time limit exceeded")
}

func TestSpillToTempFile(t *testing.T) {
	dir := t.TempDir()
	z := zipOf(t, [2]any{"a.csv", digits(200 << 10)})
	lim := DefaultLimits()
	lim.MaxMemory = 4 << 10
	lim.TempDir = dir
	_, parts := walkBytes(t, buildMail(attachPart("a.zip", "application/zip", z)), lim)
	p := part(t, parts, "attachment:a.zip/a.csv", 0)
	if p.Unscannable != "" || len(p.Text) != 200<<10 {
		t.Errorf("spilled zip: %q %d", p.Unscannable, len(p.Text))
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	lim.MaxAttachment = 64 << 10
	_, parts = walkBytes(t, buildMail(attachPart("a.zip", "application/zip", z)), lim)
	p = part(t, parts, "attachment:a.zip", 0)
	if !strings.Contains(p.Unscannable, "larger than") || p.Attachment.Size != int64(len(z)) {
		t.Errorf("oversized: %q size %d", p.Unscannable, p.Attachment.Size)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestCorruptInputs(t *testing.T) {
	tests := []struct {
		name, ctype string
		data        []byte
		reason      string
	}{
		{"bad.zip", "application/zip", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{1}, 100)...), "corrupt zip"},
		{"bad.pdf", "application/pdf", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"), "unreadable PDF"},
		{"empty.pdf", "application/pdf", []byte("%PDF-1.4\n"), "unreadable PDF"},
		{"a.bin", "application/octet-stream", bytes.Repeat([]byte{0, 1, 2, 3, 0xff}, 100), "unsupported format"},
		{"a.gz", "application/gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3}, "archive format application/gzip not supported"},
		{"old.doc", "application/msword", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 600)...), "OLE"},
	}
	for _, tc := range tests {
		_, parts := walkBytes(t, buildMail(attachPart(tc.name, tc.ctype, tc.data)), DefaultLimits())
		p := part(t, parts, "attachment:"+tc.name, 0)
		if !strings.Contains(p.Unscannable, tc.reason) {
			t.Errorf("%s: unscannable %q, want %q", tc.name, p.Unscannable, tc.reason)
		}
	}
}

func TestHeaderTolerance(t *testing.T) {
	// an mbox From_ line before the header, a junk line inside it, and a
	// body that starts without the blank line
	msg := "From sender@example.com Mon Apr  1 09:00:00 2026\r\nSubject: =?UTF-8?B?5rCP5ZCN?=\r\nno colon here\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nマイナンバー 123456789018\r\n次の行\r\n"
	m, parts := walkBytes(t, []byte(msg), DefaultLimits())
	if m.Subject != "氏名" || m.Header.Get("Content-Type") == "" {
		t.Errorf("subject %q content-type %q", m.Subject, m.Header.Get("Content-Type"))
	}
	if len(parts) != 1 {
		t.Fatalf("%d parts", len(parts))
	}
	wantText(t, parts[0], "マイナンバー 123456789018\r\n次の行")
	wantError(t, m, "header not ended by a blank line")
}

// brokenStructure has a part header with a broken line: go-message stops
// there, the tolerant re-read recovers the parts after it.
const brokenStructure = "From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n" +
	"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n本文 03-1111-2222\r\n" +
	"--B\r\nContent-Type: text/csv;\r\nname=\"list.csv\"\r\nContent-Disposition: attachment; filename=\"list.csv\"\r\n\r\n" +
	"氏名,電話\r\n山田,090-1111-2222\r\n" +
	"--B\r\nContent-Type: text/plain; name=\"after.txt\"\r\n\r\n後の添付 123456789018\r\n" +
	"--B--\r\n"

// onlyReader hides Seek, as a network stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestFallbackRecoversParts(t *testing.T) {
	for _, seekable := range []bool{true, false} {
		var r io.Reader = strings.NewReader(brokenStructure)
		if !seekable {
			r = onlyReader{r}
		}
		var parts []Part
		m, err := Walk(context.Background(), r, DefaultLimits(), func(p *Part) error {
			c := *p
			c.Text = append([]byte(nil), p.Text...)
			parts = append(parts, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if m.Incomplete {
			t.Errorf("seekable %v: incomplete %q", seekable, m.Errors)
		}
		wantLocations(t, parts, "body", "attachment:list.csv", "attachment:after.txt")
		if len(parts) == 3 {
			wantText(t, parts[1], "山田,090-1111-2222")
			wantText(t, parts[2], "後の添付 123456789018")
		}
		wantError(t, m, "re-read by the tolerant parser: 2 more parts")
	}
	lim := DefaultLimits()
	lim.MaxFallback = 100
	m, parts := walkBytes(t, []byte(brokenStructure), lim)
	if !m.Incomplete || len(parts) != 1 {
		t.Errorf("over MaxFallback: incomplete %v, %d parts", m.Incomplete, len(parts))
	}
}

func TestZipNamesAndNestedMessage(t *testing.T) {
	sjisName := string(mustEncode(t, japanese.ShiftJIS, "顧客名簿.csv"))
	eml := "From: x@partner.co.jp\r\nSubject: =?UTF-8?B?5rOo5paH?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"I\"\r\n\r\n--I\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n注文 090-3333-4444\r\n" +
		"--I\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"inner.csv\"\r\n\r\na,b\r\n1,2\r\n--I--\r\n"
	z := zipOf(t, [2]any{sjisName, "氏名,電話\n"}, [2]any{"mail/fwd.eml", eml})
	m, parts := walkBytes(t, buildMail(attachPart("a.zip", "application/zip", z)), DefaultLimits())
	wantNoErrors(t, m)
	wantLocations(t, parts,
		"attachment:a.zip/顧客名簿.csv",
		"attachment:a.zip/mail/fwd.eml",
		"attachment:a.zip/mail/fwd.eml/inner.csv",
		"attachment:a.zip/mail/fwd.eml",
		"attachment:a.zip")
	if len(parts) == 5 {
		wantText(t, parts[1], "注文 090-3333-4444")
		if parts[2].Attachment.Depth != 2 || !parts[2].Tabular {
			t.Errorf("inner csv %+v", parts[2].Attachment)
		}
		wantText(t, parts[3], "Subject: 注文")
	}
}

// arrivingReader is a message still arriving: complete closes once its
// last byte has been read.
type arrivingReader struct {
	slowReader
	complete chan struct{}
}

func (a *arrivingReader) Read(p []byte) (int, error) {
	n, err := a.slowReader.Read(p)
	if err == io.EOF {
		select {
		case <-a.complete:
		default:
			close(a.complete)
		}
	}
	return n, err
}

// A message read as it arrives (ArrivingInput) has its time limit counted
// from its last byte: a slow transfer is not the analysis's time.
func TestLimitTimeoutCountsFromArrival(t *testing.T) {
	data := buildMail(attachPart("a.txt", "text/plain", digits(64<<10)), attachPart("b.txt", "text/plain", digits(64<<10)))
	lim := DefaultLimits()
	lim.Timeout = 100 * time.Millisecond
	walk := func(ctx context.Context, r io.Reader) *Message {
		t.Helper()
		m, err := Walk(ctx, r, lim, func(*Part) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	a := &arrivingReader{slowReader: slowReader{r: bytes.NewReader(data), delay: 2 * time.Millisecond},
		complete: make(chan struct{})}
	start := time.Now()
	m := walk(ArrivingInput(context.Background(), a.complete), a)
	if time.Since(start) <= lim.Timeout {
		t.Fatalf("the transfer took %v, not longer than the limit: the test shows nothing", time.Since(start))
	}
	if m.Incomplete || m.Size != int64(len(data)) || len(m.Errors) != 0 {
		t.Errorf("arriving input: incomplete %v, size %d of %d, errors %q", m.Incomplete, m.Size, len(data), m.Errors)
	}

	// Once the input is complete the limit runs: a walk that is slow
	// after the last byte still stops.
	done := make(chan struct{})
	close(done)
	m = walk(ArrivingInput(context.Background(), done), &slowReader{r: bytes.NewReader(data), delay: 2 * time.Millisecond})
	if !m.Incomplete {
		t.Error("a complete input read past the limit was not stopped")
	}
	wantError(t, m, "time limit exceeded")

	// The caller's cancellation is an error, as without ArrivingInput.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ArrivingInput(ctx, make(chan struct{})), bytes.NewReader(data), lim, func(*Part) error { return nil }); err == nil {
		t.Error("a cancelled walk of an arriving input returned no error")
	}
}
