package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// The message page says how many people's data a message carries, at the
// PPC reporting scale in the words of the report form.
func TestMessagePageShowsPeople(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	big := e.seed(msg{subject: "list", people: 23456, items: []string{"氏名", "電話番号"}})
	none := e.seed(msg{subject: "hello"})
	c := e.client()
	c.login("rita")
	r := c.get("/console/msg/" + big)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	mustContain(t, r.body, `id="people"`, "personal data of about 23,000 people (a scale that must be reported", "Items: name, phone number")
	if r := c.get("/console/msg/" + none); strings.Contains(r.body, `id="people"`) {
		t.Error("a message without personal data shows a people line")
	}
}

// The message page shows a top-level attachment's SHA-256 when the
// inspection recorded one.
func TestMessagePageShowsAttachmentHash(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	sum := strings.Repeat("ab", 32)
	id := e.seed(msg{subject: "files", atts: []rules.Attachment{
		{Name: "a.xlsx", Location: "attachment:a.xlsx", Type: "application/zip", Size: 10, SHA256: sum},
		{Name: "b.pdf", Location: "attachment:b.pdf", Type: "application/pdf", Size: 20}}})
	c := e.client()
	c.login("rita")
	r := c.get("/console/msg/" + id)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	mustContain(t, r.body, "a.xlsx<div><code class=\"small\">sha256:"+sum+"</code></div>", "b.pdf</td>")
}
