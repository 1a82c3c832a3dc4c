package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The link action end to end: the attachments leave the mail, each
// recipient's copy carries their own link, the file comes after a one-time
// code sent to that recipient, and the sender can revoke.

var dlLinkRE = regexp.MustCompile(`https?://[^\s"<>]+/d/[A-Za-z0-9_-]{43}`)
var revokeRE = regexp.MustCompile(`https?://[^\s"<>]+/d/revoke/[A-Za-z0-9_-]{43}`)

func linkPolicy(t testing.TB, in *instance) {
	policyPath := in.dir + "/policy.yaml"
	writeFile(policyPath, `version: 1
rules:
  - name: links
    when: recipients.external > 0 && size(attachments) > 0
    actions: [link]
    reason:
      ja: 添付ファイルはダウンロードリンクに置き換えました。
      en: Attachments were replaced by download links.
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, cfg+"policy: "+policyPath+"\n")
}

// browser is a cookie-keeping HTTP client that posts forms like a page.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}}
}

func (b *browser) get(u string) (int, string) {
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) post(u string, f url.Values) (int, string) {
	req, _ := http.NewRequest("POST", u, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	pu, _ := url.Parse(u)
	req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func formValue(page, name string) string {
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestLinkMode(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	linkPolicy(t, in)
	in.start()
	rcpts := []string{"buyer@partner.test", "boss@partner.test"}
	msg := attachmentMail("alice@example.com", "buyer@partner.test", "link1")
	if err := sendMail(in.smtp, "alice@example.com", rcpts, msg); err != nil {
		t.Fatal(err)
	}
	// Each recipient gets their own copy, without the CSV, with only their link.
	waitFor(t, 15*time.Second, func() bool { return len(mailsFrom(sk, "alice@example.com")) == 2 })
	links := map[string]string{}
	for _, m := range mailsFrom(sk, "alice@example.com") {
		if len(m.To) != 1 {
			t.Fatalf("a copy went to %v; each recipient needs their own", m.To)
		}
		text := noticeText(t, m.Data)
		if strings.Contains(string(m.Data), "text/csv") || strings.Contains(text, "A-100") {
			t.Fatal("the attachment is still in the mail")
		}
		found := slices.Compact(dlLinkRE.FindAllString(text, -1)) // the same link in each language
		if len(found) != 1 {
			t.Fatalf("copy to %s has %d links:\n%s", m.To[0], len(found), text)
		}
		links[m.To[0]] = found[0]
	}
	if links["buyer@partner.test"] == links["boss@partner.test"] {
		t.Fatal("both recipients got the same link")
	}
	senderNote := waitNotice(t, sk, "alice@example.com", "/d/revoke/")
	revoke := revokeRE.FindString(senderNote)

	// The buyer asks for a code; it goes to the buyer's own address.
	b := newBrowser(t)
	link := links["buyer@partner.test"]
	code, page := b.get(link)
	if code != 200 || !strings.Contains(page, "quote.csv") {
		t.Fatalf("link page: %d\n%.400s", code, page)
	}
	if code, _ := b.get(link + "/file/0"); code == 200 {
		t.Fatal("a file was served before the code was entered")
	}
	if code, body := b.post(link, url.Values{"csrf": {formValue(page, "csrf")}, "lang": {"en"}, "action": {"send_code"}}); code != 200 {
		t.Fatalf("send code: %d %.300s", code, body)
	}
	codeMail := waitNotice(t, sk, "buyer@partner.test", "")
	otp := regexp.MustCompile(`\b(\d{4} ?\d{4})\b`).FindStringSubmatch(codeMail)
	if otp == nil {
		t.Fatalf("no code in the mail to the buyer:\n%s", codeMail)
	}
	_, page = b.get(link)
	if code, body := b.post(link+"/verify", url.Values{"csrf": {formValue(page, "csrf")}, "lang": {"en"}, "code": {otp[1]}}); code != 200 {
		t.Fatalf("verify: %d %.300s", code, body)
	}
	_, page = b.get(link)
	href := regexp.MustCompile(`href="([^"]*/file/[^"]*)"`).FindStringSubmatch(page)
	if href == nil {
		t.Fatalf("no download link after the code:\n%.600s", page)
	}
	u, _ := url.Parse(link)
	fileURL := u.Scheme + "://" + u.Host + strings.ReplaceAll(href[1], "&amp;", "&")
	if code, body := b.get(fileURL); code != 200 || body != csvBody {
		t.Fatalf("download: %d %q", code, body)
	}
	// The sender revokes: nothing is served any more.
	rb := newBrowser(t)
	_, rpage := rb.get(revoke)
	if code, body := rb.post(revoke, url.Values{"csrf": {formValue(rpage, "csrf")}, "lang": {"en"}, "action": {"revoke"}}); code != 200 {
		t.Fatalf("revoke: %d %.300s", code, body)
	}
	if code, _ := b.get(fileURL); code == 200 {
		t.Fatal("a revoked link still serves the file")
	}
	if code, _ := b.get(link); code != http.StatusGone {
		t.Fatalf("revoked link page: %d, want 410", code)
	}
}
