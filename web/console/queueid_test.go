package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/spool"
)

// A queue ID from the message log opens its message in the console: a
// held one's page shows the ID; one that was never held (delivered)
// opens read-only from the spool; the queue page's search goes straight
// to it; an unknown ID is a 404 and a malformed one is no search.
func TestQueueIDLinks(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vera", RoleViewer)
	held := e.seed(msg{subject: "見積"})
	c := e.client()
	c.login("vera")
	r := c.get("/console/msg/" + held + "?lang=en")
	if !strings.Contains(r.body, `id="msg-queue-id"`) || !strings.Contains(r.body, "<code>"+held+"</code>") || !strings.Contains(r.body, "sendguard queue show "+held) {
		t.Fatalf("held message page lacks its queue ID:\n%s", r.body)
	}

	// A delivered message that was never held.
	id := spool.NewID()
	bw, err := e.sp.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write([]byte("From: <bob@example.com>\r\nSubject: plain\r\n\r\nhi\r\n"))
	sum, _ := bw.Commit()
	now := e.clock.Now()
	if err := e.sp.Accept(&spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateQueued, MailFrom: "bob@example.com",
		Subject: "plain", SHA256: sum, ReceivedAt: now, Expires: now.Add(time.Hour), Decision: []byte(`{"rules":["external-attachment"],"actions":["encrypt"]}`),
		Rcpts: []spool.Rcpt{{Addr: "x@partner.test", Status: spool.RcptPending}}}, nil); err != nil {
		t.Fatal(err)
	}
	r = c.get("/console/msg/" + id + "?lang=en")
	if r.status != http.StatusOK || !strings.Contains(r.body, "<code>"+id+"</code>") || !strings.Contains(r.body, "Queued") ||
		!strings.Contains(r.body, "external-attachment") || strings.Contains(r.body, `id="release-form"`) {
		t.Fatalf("spool-only message page: %d\n%s", r.status, r.body)
	}

	// The search box.
	r = c.get("/console/queue?id=+" + id + "+")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/msg/"+id {
		t.Fatalf("queue ID search: %d %s", r.status, r.header.Get("Location"))
	}
	if r := c.get("/console/queue?id=%3Cscript%3E"); r.status != http.StatusOK {
		t.Fatalf("malformed ID search: %d", r.status)
	}
	if r := c.get("/console/msg/" + spool.NewID()); r.status != http.StatusNotFound {
		t.Fatalf("unknown ID: %d", r.status)
	}
}
