package outbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/browsertest"
	"github.com/sendguard/sendguard/templates"
)

// A notice as the gateway writes it: quoted-printable Japanese, an RFC
// 2047 subject, an HTML alternative and an attachment.
const sampleMail = "From: sendguard <sendguard@example.com>\r\n" +
	"To: =?UTF-8?B?5bGx55Sw?= <alice@example.com>\r\n" +
	"Subject: =?UTF-8?B?6YCB5L+h5YmN44Gu56K66KqN44Gu44GK6aGY44GE?=\r\n" +
	"Date: Mon, 06 Apr 2026 14:15:00 +0000\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n" +
	"--m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n" +
	"--a\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"=E7=A2=BA=E8=AA=8D=E3=83=9A=E3=83=BC=E3=82=B8: http://127.0.0.1:8025/h/TOKEN.\r\n<script>alert(1)</script>\r\n" +
	"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p onclick=\"x()\">HTML part</p>\r\n--a--\r\n" +
	"--m\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"quote.csv\"\r\n\r\nA-100,3,1200\r\n--m--\r\n"

func TestParseDecodesLikeAMailClient(t *testing.T) {
	m, err := Parse(strings.NewReader(sampleMail))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "送信前の確認のお願い" || !reflect.DeepEqual(m.To, []string{"山田 <alice@example.com>"}) {
		t.Fatalf("headers: %q %q", m.Subject, m.To)
	}
	want := []Segment{{Text: "確認ページ: "}, {Text: "http://127.0.0.1:8025/h/TOKEN", URL: "http://127.0.0.1:8025/h/TOKEN"}, {Text: ".\n<script>alert(1)</script>"}}
	if !reflect.DeepEqual(m.Body, want) {
		t.Fatalf("body = %+v", m.Body)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "quote.csv" || m.Attachments[0].Size != "12 B" {
		t.Fatalf("attachments = %+v", m.Attachments)
	}
}

func TestHTMLOnlyMailShownAsText(t *testing.T) {
	m, err := Parse(strings.NewReader("Subject: x\r\nContent-Type: text/html\r\n\r\n<style>p{}</style><p>Hello <b>there</b></p><script>evil()</script>"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.HTMLOnly || len(m.Body) != 1 || strings.TrimSpace(m.Body[0].Text) != "Hello there" {
		t.Fatalf("html-only body = %+v", m.Body)
	}
}

func TestLinkifyOnlyHTTP(t *testing.T) {
	segs := Linkify("a javascript:alert(1) b https://x.example/p?q=1), c")
	var links []string
	for _, s := range segs {
		if s.URL != "" {
			links = append(links, s.URL)
		}
	}
	if !reflect.DeepEqual(links, []string{"https://x.example/p?q=1"}) {
		t.Fatalf("links = %q", links)
	}
}

func TestPagesInBothLanguages(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Q1.eml"), []byte(sampleMail), 0o600); err != nil {
		t.Fatal(err)
	}
	env := `{"queue_id":"Q1","mail_from":"","rcpts":["alice@example.com"],"delivered":"2026-04-06T14:15:00Z"}`
	if err := os.WriteFile(filepath.Join(dir, "Q1.json"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Dir: dir, Location: time.FixedZone("JST", 9*3600)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path, accept string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Language", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		path, accept string
		want         []string
	}{
		{"/outbox", "", []string{`lang="ja"`, "デモ用送信箱", "送信前の確認のお願い", "sendguard からの通知", "2026年4月6日(月) 23:15 JST"}},
		{"/outbox?lang=en", "", []string{`lang="en"`, "Demo outbox", "sendguard notice", "Mon 6 Apr 2026 23:15 JST"}},
		{"/outbox/Q1.eml", "en", []string{`lang="en"`, `<a href="http://127.0.0.1:8025/h/TOKEN" rel="noopener noreferrer">`, "確認ページ", "quote.csv", "Attachments: 1", "&lt;script&gt;", "山田 &lt;alice@example.com&gt;"}},
		{"/outbox/Q1.eml", "ja", []string{`lang="ja"`, "添付ファイル: 1件", "差出人"}},
	} {
		code, body := get(tc.path, tc.accept)
		if code != 200 {
			t.Fatalf("%s: %d", tc.path, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s (%s) lacks %q", tc.path, tc.accept, w)
			}
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "onclick") {
			t.Errorf("%s: mail markup reached the page", tc.path)
		}
	}
	if code, body := get("/outbox/Q1.eml?format=raw", ""); code != 200 || !strings.Contains(body, "quoted-printable") {
		t.Errorf("raw: %d", code)
	}
	for _, bad := range []string{"/outbox/..%2Fx.eml", "/outbox/.x.eml", "/outbox/Q1.json", "/outbox/none.eml"} {
		if code, _ := get(bad, ""); code != 404 {
			t.Errorf("%s: %d, want 404", bad, code)
		}
	}
}

// TestBrowserOutbox looks at the outbox list and a notice in Chromium, in
// both languages, at desktop and phone sizes: decoded Japanese, the
// confirm link clickable, the attachment listed, times with their zone.
func TestBrowserOutbox(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Q1.eml"), []byte(sampleMail), 0o600)
	os.WriteFile(filepath.Join(dir, "Q1.json"), []byte(`{"queue_id":"Q1","rcpts":["alice@example.com"],"delivered":"2026-04-06T14:15:00Z"}`), 0o600)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Dir: dir, Location: tokyo})
	if err != nil {
		t.Fatal(err)
	}
	css, err := templates.StyleSheet(mustRead(t, "static/style.css"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	mux.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Write(css)
	})
	mux.HandleFunc("GET /static/favicon.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write(mustRead(t, "static/favicon.svg"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	browsertest.CheckPages(t, "outbox", []browsertest.Page{
		{Name: "outbox-list-ja", URL: srv.URL + "/outbox?lang=ja", Lang: "ja",
			Expect: []string{"デモ専用", "送信前の確認のお願い", "sendguard からの通知", "23:15 JST"}},
		{Name: "outbox-list-en", URL: srv.URL + "/outbox?lang=en", Lang: "en",
			Expect: []string{"Demo only", "送信前の確認のお願い", "sendguard notice", "23:15 JST"}},
		{Name: "outbox-notice-ja", URL: srv.URL + "/outbox/Q1.eml?lang=ja", Lang: "ja",
			Expect: []string{"確認ページ: http://127.0.0.1:8025/h/TOKEN", "quote.csv", "添付ファイル: 1件", "JST"},
			Absent: []string{"=E7", "quoted-printable"}, Enabled: []string{"a[href='http://127.0.0.1:8025/h/TOKEN']"}},
		{Name: "outbox-notice-en", URL: srv.URL + "/outbox/Q1.eml?lang=en", Lang: "en",
			Expect: []string{"Attachments: 1", "From", "JST"}, Enabled: []string{"a[href='http://127.0.0.1:8025/h/TOKEN']"}},
	})
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := templates.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
