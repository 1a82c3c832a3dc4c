package link

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedRand yields the same bytes every time, for golden Message-IDs.
type fixedRand struct{}

func (fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	return len(p), nil
}

// TestCodeMailGolden renders the one-time code mail with each language
// first (testdata/code.LANG.eml; rewrite with -update).
func TestCodeMailGolden(t *testing.T) {
	for _, lang := range []string{"ja", "en"} {
		m := CodeMail{From: "sendguard <sendguard@example.com>", To: "alice@partner.co.jp", Lang: lang, Code: "12345678",
			Sender: "taro@example.com", Subject: "お見積り(4月分)", Location: time.FixedZone("JST", 9*3600),
			Expires: time.Date(2026, 4, 1, 9, 10, 0, 0, time.UTC), Date: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC),
			Rand: fixedRand{}}
		got, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		text, html := mailParts(t, got)
		if text == "" || html == "" {
			t.Fatal("missing part")
		}
		path := filepath.Join("testdata", "code."+lang+".eml")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read golden (run with -update): %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from golden file; run go test ./link -run CodeMailGolden -update and review the diff", path)
		}
	}
}

// TestNoteGolden renders the notes that replace attachments (a
// recipient's, with one and with several links, and the sender's) with
// each language first (testdata/note*.LANG.txt).
func TestNoteGolden(t *testing.T) {
	n := Note{Files: []File{{Name: "見積書.pdf", Size: 120 << 10}, {Name: "顧客.csv", Size: 2048}}, ListNames: true,
		Expires: time.Date(2026, 4, 8, 9, 0, 0, 0, time.UTC), Location: time.FixedZone("JST", 9*3600)}
	one := NoteLink{Recipient: "alice@partner.co.jp", URL: "https://sendguard.example.com/d/TOKEN-A"}
	two := NoteLink{Recipient: "bob@partner.co.jp", URL: "https://sendguard.example.com/d/TOKEN-B"}
	for _, lang := range []string{"ja", "en"} {
		for name, got := range map[string]string{
			"note":        NoteText(lang, n, one),
			"note_shared": NoteText(lang, n, one, two),
			"note_sender": SenderNoteText(lang, n, "https://sendguard.example.com/d/revoke/TOKEN-R"),
		} {
			path := filepath.Join("testdata", name+"."+lang+".txt")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from golden file:\n%s", path, got)
			}
		}
	}
}
