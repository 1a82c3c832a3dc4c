package inspect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newTest(t testing.TB) *Inspector {
	t.Helper()
	in, err := New(Config{InternalDomains: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// A customer list pasted into the body is a list all the same.
func TestPastedListCountsAsRecords(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nTo: x@partner.test\r\nSubject: list\r\n\r\n")
	for i := range 60 {
		fmt.Fprintf(&b, "顧客%03d 090-%04d-%04d user%d@mail.example.jp\r\n", i, 1000+i, 2000+i, i)
	}
	res, err := newTest(t).Inspect(context.Background(), strings.NewReader(b.String()), Envelope{MailFrom: "a@example.com", Rcpts: []string{"x@partner.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Decision.Actions) != 1 || res.Decision.Actions[0] != "hold_review" {
		t.Fatalf("decision %v, want hold_review for a 60-person list", res.Decision.Actions)
	}
	for _, f := range res.Report.Findings {
		if f.Detector == "jp_phone" && f.Records < 60 {
			t.Fatalf("records = %d, want 60", f.Records)
		}
		for _, s := range f.Samples {
			if strings.Contains(s, "1000-2000") {
				t.Fatalf("unmasked sample %q", s)
			}
		}
		if f.Values != nil {
			t.Fatal("raw values without Reveal")
		}
	}
}

// An ordinary signature does not make a list.
func TestSignatureIsNotAList(t *testing.T) {
	msg := "From: a@example.com\r\nTo: x@partner.test\r\nSubject: hi\r\n\r\nThanks.\r\n--\r\nYamada Taro\r\nTEL 03-1234-5678\r\na@example.com\r\n"
	res, err := newTest(t).Inspect(context.Background(), strings.NewReader(msg), Envelope{MailFrom: "a@example.com", Rcpts: []string{"x@partner.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decision.Actions[0] != "deliver" {
		t.Fatalf("decision %v for an ordinary mail", res.Decision.Actions)
	}
}

// Every public real-world fixture goes through the whole analysis without
// a panic, a hang or an error.
func TestPublicCorpus(t *testing.T) {
	root := os.Getenv("SENDGUARD_CORPUS")
	if root == "" {
		root = "../../../shared/corpus/public"
	}
	if _, err := os.Stat(root); err != nil {
		t.Skip("no public corpus beside the repository")
	}
	in := newTest(t)
	n := 0
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := in.Inspect(ctx, f, Envelope{}); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s took %s", path, d)
		}
		n++
		return nil
	})
	t.Logf("%d corpus files analysed", n)
}

// BenchmarkTypicalMail is the end-to-end analysis (extraction, detectors,
// recipients, policy) of a typical 100 KB mail: body text and a CSV.
func BenchmarkTypicalMail(b *testing.B) {
	var m strings.Builder
	m.WriteString("From: a@example.com\r\nTo: x@partner.test, y@example.com\r\nSubject: report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for m.Len() < 50_000 {
		m.WriteString("来週の打ち合わせの件、資料を添付いたしますのでご確認ください。よろしくお願いいたします。\r\n")
	}
	m.WriteString("--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=items.csv\r\n\r\n")
	for m.Len() < 100_000 {
		m.WriteString("A-100,3,1200,在庫あり\r\n")
	}
	m.WriteString("--b--\r\n")
	msg := m.String()
	in := newTest(b)
	env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"x@partner.test", "y@example.com"}}
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		if _, err := in.Inspect(context.Background(), strings.NewReader(msg), env); err != nil {
			b.Fatal(err)
		}
	}
}
