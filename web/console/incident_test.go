package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/sent"
	"github.com/sendguard/sendguard/templates"
)

func incidentEnv(t *testing.T) (*env, *sent.Store) {
	var st *sent.Store
	e := newEnv(t, func(c *Config) {
		st = &sent.Store{DB: c.DB, Retention: 30 * 24 * time.Hour}
		if err := st.Init(); err != nil {
			t.Fatal(err)
		}
		cat, err := templates.LoadCatalog()
		if err != nil {
			t.Fatal(err)
		}
		c.Incidents = &sent.Kit{Store: st, Audit: c.Hold, Catalog: cat, BaseURL: "http://127.0.0.1/", Now: c.Now, From: "sendguard@example.com",
			Mail: func(context.Context, string, []byte) error { return nil }}
	})
	return e, st
}

// The kit is for reviewers and admins; its steps need the CSRF token and
// land in the audit log with the user; a message outside the retention
// says so.
func TestIncidentKitConsole(t *testing.T) {
	e, st := incidentEnv(t)
	e.addUser("vera", RoleViewer)
	e.addUser("rita", RoleReviewer)
	rec := &sent.Record{ID: "Q1", DeliveredAt: e.clock.Now(), MailFrom: "alice@example.com", Subject: "顧客リスト",
		Rcpts:    []sent.Rcpt{{Addr: "a@partner.co.jp", Status: "delivered", Code: 250}},
		Findings: []sent.Finding{{Detector: "jp_phone", Count: 2000, Location: "attachment:list.csv"}}, People: 2000,
		DataItems: []string{"氏名", "電話番号"}, Actions: []string{"link"}}
	if err := st.DB.Update(func(tx *bbolt.Tx) error { return st.PutTx(tx, rec) }); err != nil {
		t.Fatal(err)
	}
	v := e.client()
	v.login("vera")
	if r := v.get("/console/sent"); r.status != http.StatusForbidden {
		t.Errorf("viewer opens the sent search: %d", r.status)
	}
	if r := v.get("/console/"); strings.Contains(r.body, `id="nav-sent"`) {
		t.Error("viewer sees the sent menu")
	}
	c := e.client()
	c.login("rita")
	r := c.get("/console/sent?domain=partner.co.jp")
	mustContain(t, r.body, "/console/sent/Q1", "顧客リスト")
	if r := c.get("/console/sent?domain=elsewhere.test"); strings.Contains(r.body, "/console/sent/Q1") {
		t.Error("a domain filter shows another domain's message")
	}
	r = c.get("/console/sent/Q1")
	mustContain(t, r.body, `id="people"`, "about 2,000 people", `id="revoke-links"`, `id="request-deletion"`)
	if r := c.post("/console/sent/Q1/revoke", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("revoke without the CSRF token: %d", r.status)
	}
	if r := c.postCSRF("/console/sent/Q1/revoke", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := c.postCSRF("/console/sent/Q1/delete-request", url.Values{"lang": {"en"}}); r.status != http.StatusSeeOther ||
		!strings.Contains(r.header.Get("Location"), "done=incident.requested&n=1") {
		t.Fatalf("deletion request: %d %q", r.status, r.header.Get("Location"))
	}
	r = c.get("/console/sent/Q1/ppc?format=json")
	var d sent.Draft
	if err := json.Unmarshal([]byte(r.body), &d); err != nil || !d.Reportable || d.People != 2000 {
		t.Fatalf("draft JSON: %v %+v", err, d)
	}
	r = c.get("/console/sent/Q1/evidence")
	var ev sent.Evidence
	if err := json.Unmarshal([]byte(r.body), &ev); err != nil || !ev.EventsOK || ev.Record.ID != "Q1" {
		t.Fatalf("evidence: %v", err)
	}
	var acts []string
	for _, ev := range e.events(hold.EventFilter{MessageID: "Q1"}) {
		if ev.Actor.Name != "rita" {
			t.Errorf("%s by %q", ev.Action, ev.Actor.Name)
		}
		acts = append(acts, ev.Action)
	}
	if got := strings.Join(acts, " "); got != "incident_opened incident_links_revoked incident_deletion_requested incident_ppc_draft incident_evidence" {
		t.Errorf("audit: %s", got)
	}
	if r := c.get("/console/sent/Q1/body"); r.status != http.StatusForbidden {
		t.Errorf("a reviewer downloads the kept body: %d", r.status)
	}
	// The sent page lists the open incident.
	mustContain(t, c.get("/console/sent").body, `id="incidents"`, `class="incident"`, "/console/sent/Q1", "0 / 1")
	// Outside the retention: the page says so, the steps refuse.
	r = c.get("/console/sent/OLD")
	if r.status != http.StatusNotFound {
		t.Errorf("unknown message: %d", r.status)
	}
	mustContain(t, r.body, `id="outside-retention"`, "720h")
	if r := c.postCSRF("/console/sent/OLD/delete-request", url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("deletion request for a purged message: %d", r.status)
	}
	if r := c.get("/console/sent/OLD/ppc"); r.status != http.StatusNotFound || !strings.Contains(r.body, `id="outside-retention"`) {
		t.Errorf("draft of a purged message: %d", r.status)
	}
}

// A released message that has been delivered links to its incident kit.
func TestReleasedMessageLinksToKit(t *testing.T) {
	e, st := incidentEnv(t)
	e.addUser("rita", RoleReviewer)
	id := e.seed(msg{subject: "list"})
	c := e.client()
	c.login("rita")
	if r := c.get("/console/msg/" + id); strings.Contains(r.body, `id="incident-link"`) {
		t.Fatal("a held message links to the incident kit")
	}
	if r := c.postCSRF("/console/msg/"+id+"/release", url.Values{"confirm": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("release: %d", r.status)
	}
	if r := c.get("/console/msg/" + id); strings.Contains(r.body, `id="incident-link"`) {
		t.Fatal("a released message not yet delivered links to the kit")
	}
	rec := &sent.Record{ID: id, DeliveredAt: e.clock.Now(), MailFrom: "alice@example.com"}
	if err := st.DB.Update(func(tx *bbolt.Tx) error { return st.PutTx(tx, rec) }); err != nil {
		t.Fatal(err)
	}
	mustContain(t, c.get("/console/msg/"+id).body, `id="incident-link"`, "/console/sent/"+id)
}
