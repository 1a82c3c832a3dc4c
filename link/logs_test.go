package link

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Neither tokens nor codes nor the key reach the logs, through a whole
// flow with failures.
func TestNoSecretsLogged(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, func(o *Options, c *Config) { o.Logger, c.Logger = log, log })
	c := e.create(e.pkg())
	tok := c.Links[0].Token.Text()
	b := e.client()
	code := b.requestCode(tok)
	b.verify(tok, "00000000")
	b.post("/d/"+tok, url.Values{"action": {"send_code"}}) // no csrf
	b.login(tok)
	b.get("/d/" + tok + "/file/0")
	rv := "/d/revoke/" + c.RevokeToken.Text()
	b.post(rv, url.Values{"csrf": {b.csrf(rv)}, "action": {"revoke"}})
	out := buf.String()
	if !strings.Contains(out, "file downloaded") || !strings.Contains(out, "link revoked") {
		t.Fatalf("expected log lines missing:\n%s", out)
	}
	for _, secret := range []string{tok, c.Links[1].Token.Text(), c.RevokeToken.Text(), code, tok[:20]} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains a secret %q", secret)
		}
	}
}

func TestJapanesePages(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	tok := c.Links[0].Token.Text()
	b := e.client()
	ja := map[string]string{"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"}
	r := b.do(http.MethodGet, "/d/"+tok, nil, ja)
	for _, want := range []string{`<html lang="ja">`, "ファイルのダウンロード", "確認コードを送信", "2026年4月8日"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("Japanese page lacks %q", want)
		}
	}
	// ?lang= wins over the browser.
	r = b.do(http.MethodGet, "/d/"+tok+"?lang=en", nil, ja)
	if !strings.Contains(r.body, "Send me a code") {
		t.Error("lang=en ignored")
	}
	// The code mail follows the page's language.
	csrf := b.csrf("/d/" + tok)
	b.post("/d/"+tok, url.Values{"csrf": {csrf}, "action": {"send_code"}, "lang": {"ja"}})
	text, _ := mailParts(t, e.lastMail().Msg)
	if !strings.HasPrefix(text, "taro@example.com から送られた") {
		t.Errorf("code mail not Japanese first:\n%s", text)
	}
	rv := b.do(http.MethodGet, "/d/revoke/"+c.RevokeToken.Text(), nil, ja)
	if !strings.Contains(rv.body, "まだダウンロードされていません") || !strings.Contains(rv.body, "リンクを無効にする") {
		t.Error("Japanese sender page")
	}
}
