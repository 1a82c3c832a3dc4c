package inspect

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/detect"
)

// streamedCSVMail writes, through a pipe, a mail whose attachment is a
// header-less CSV of rows lines (≈45 bytes each), base64-encoded: the input
// is never held in memory or on disk.
func streamedCSVMail(rows int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		fmt.Fprint(bw, "From: a@example.com\r\nTo: x@partner.test\r\nSubject: data\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"+
			"--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=dump.csv\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: bw})
		for i := range rows {
			fmt.Fprintf(enc, "%07d,顧客%07d,090-%04d-%04d,在庫\n", i, i, i/10000%10000, i%10000)
		}
		enc.Close()
		fmt.Fprint(bw, "\r\n--b--\r\n")
		bw.Flush()
		pw.Close()
	}()
	return pr
}

// lineWriter breaks base64 into 76-character lines.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(76-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		p, l.col = p[k:], l.col+k
		if l.col == 76 {
			l.w.Write([]byte("\r\n"))
			l.col = 0
		}
	}
	return n, nil
}

// A table of a million rows (≈45 MB) is scanned up to the text limit and
// reported as truncated, in bounded time, never dropped.
func TestMillionRowTableIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 45 MB")
	}
	start := time.Now()
	res, err := newTest(t).Inspect(context.Background(), streamedCSVMail(1_000_000), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	var truncated, phones bool
	for _, f := range res.Report.Findings {
		truncated = truncated || f.Detector == rules.DetectorTruncated && f.Location == "attachment:dump.csv"
		phones = phones || f.Detector == detect.JPPhone && f.Count > 1000
	}
	if !truncated || !phones {
		t.Fatalf("truncated %v, phones %v: %+v", truncated, phones, res.Report.Findings)
	}
	if !res.Decision.Has("hold_review") {
		t.Errorf("a truncated customer dump is delivered: %v", res.Decision.Actions)
	}
	t.Logf("1M rows analysed in %s", d)
}

// A custom pattern that is slow on purpose stops at its budget and says
// so; the message is still analysed and decided.
func TestSlowPatternIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("times a large scan")
	}
	in, err := New(Config{InternalDomains: []string{"example.com"},
		Patterns: []detect.Pattern{{Name: "slow", Regex: `(?:[a-z0-9]{1,10}[-,]{0,3}){1,30}Z`}}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := in.Inspect(context.Background(), streamedCSVMail(150_000), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	if d > 20*time.Second {
		t.Fatalf("took %s", d)
	}
	stopped := false
	for _, f := range res.Report.Findings {
		if f.Detector == rules.DetectorTruncated && strings.Contains(f.Reason, "custom patterns stopped") {
			stopped = true
			t.Logf("%s: %s", f.Location, f.Reason)
		}
	}
	// On a machine fast enough to finish within the budget nothing stops.
	if d > 4*time.Second && !stopped {
		t.Fatalf("took %s and no truncated finding says where the patterns stopped", d)
	}
	if len(res.Decision.Actions) == 0 {
		t.Fatal("no decision")
	}
}
