package console

import (
	"net/http"
	"strings"
	"testing"
)

func TestMailHTMLSanitised(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vera", RoleViewer)
	body := "From: a@example.com\r\nTo: b@partner.co.jp\r\nSubject: html\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain version\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		`<html><head><style>body{background:url(https://track.example/css)}</style><script>alert(1)</script></head>` +
		`<body onload="alert(2)"><p>請求書を<b>ご確認</b>ください</p><img src="https://track.example/pixel.gif">` +
		`<a href="javascript:alert(3)">x</a><a href="https://partner.co.jp/">link</a><form action="https://evil.example/"><input name=p></form>` +
		`<iframe src="https://evil.example/"></iframe><div style="position:fixed" onclick="alert(4)">d</div></body></html>` + "\r\n--b--\r\n"
	id := e.seed(msg{subject: "html", body: body})
	c := e.client()
	c.login("vera")
	r := c.get("/console/msg/" + id)
	if r.header.Get("Content-Security-Policy") != cspMessage || !strings.Contains(r.body, `<iframe class="mailhtml" id="mail-html" sandbox src="/console/msg/`+id+`/html"`) {
		t.Fatalf("message page: CSP %q, frame missing", r.header.Get("Content-Security-Policy"))
	}
	r = c.get("/console/msg/" + id + "/html")
	if r.status != http.StatusOK || r.header.Get("Content-Security-Policy") != cspMailHTML || r.header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Fatalf("frame: %d %q", r.status, r.header.Get("Content-Security-Policy"))
	}
	mustContain(t, r.body, "請求書を<b>ご確認</b>ください", `href="https://partner.co.jp/"`, `rel="nofollow noreferrer noopener"`)
	for _, bad := range []string{"<script", "alert(", "onload", "onclick", "javascript:", "<form", "<iframe", "<style", "style=", "track.example/css"} {
		if strings.Contains(r.body, bad) {
			t.Errorf("sanitised HTML keeps %q", bad)
		}
	}
	// The frame's CSP blocks the remote image even though the tag is kept.
	if !strings.Contains(cspMailHTML, "default-src 'none'") || !strings.Contains(cspMailHTML, "sandbox") {
		t.Fatal("frame CSP")
	}
	// A message without HTML has no frame and the strict CSP.
	plain := e.seed(msg{subject: "plain"})
	if r := c.get("/console/msg/" + plain); r.header.Get("Content-Security-Policy") != csp || strings.Contains(r.body, "mail-html") {
		t.Fatal("plain message page")
	}
	if r := c.get("/console/msg/" + plain + "/html"); r.status != http.StatusNotFound {
		t.Fatalf("html of plain message: %d", r.status)
	}
	if r := e.client().get("/console/msg/" + id + "/html"); r.status != http.StatusSeeOther {
		t.Fatalf("signed out: %d", r.status)
	}
}
