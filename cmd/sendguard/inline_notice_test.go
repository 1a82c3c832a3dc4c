package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/sink"
)

// Password mails and small encrypted copies are kept inline in the
// database (no spool file): killed (SIGKILL) while they wait for an
// unreachable next hop, the mails and their password mails are all
// delivered after the restart, once each, and each opens its zip.
func TestInlinePasswordNoticeSurvivesKill9(t *testing.T) {
	hop := freePort(t) // nothing listens here yet
	in := newInstance(t, hop, "")
	in.start()
	const n = 3
	for i := range n {
		from := fmt.Sprintf("pw%d@example.com", i)
		if err := sendMail(in.smtp, from, []string{"buyer@partner.test"}, attachmentMail(from, "buyer@partner.test", fmt.Sprintf("inl%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	in.kill()
	// No password mail, body of a few KB or small encrypted copy has a
	// spool file of its own: all are in the database.
	ents, err := os.ReadDir(filepath.Join(in.dir, "data", "spool"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("spool files %v, want none", names)
	}
	sk, err := sink.Start(hop)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sk.Close() })
	in.start()
	for i := range n {
		from := fmt.Sprintf("pw%d@example.com", i)
		m := waitMail(t, sk, from)
		notice := waitNotice(t, sk, from, "Password:")
		pw := passwordRE.FindStringSubmatch(notice)
		if pw == nil {
			t.Fatalf("notice without a password:\n%s", notice)
		}
		if got := unzipWith(t, zipOf(t, m.Data), pw[1]); got != csvBody {
			t.Fatalf("unzipped %q", got)
		}
	}
	time.Sleep(time.Second) // anything sent twice would arrive by now
	notices := 0
	for _, m := range sk.Messages() {
		if m.From == "" && strings.Contains(noticeText(t, m.Data), "Password:") {
			notices++
		}
	}
	if notices != n {
		t.Fatalf("%d password mails, want %d", notices, n)
	}
	if strings.Contains(in.logs(), "no body file") {
		t.Fatalf("restart reported a missing body:\n%s", in.logs())
	}
}
