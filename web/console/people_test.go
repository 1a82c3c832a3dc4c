package console

import (
	"net/http"
	"strings"
	"testing"
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
