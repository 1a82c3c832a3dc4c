package gateway_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sendguard/sendguard/spool"
)

// A small mail the policy holds for its sender leaves nothing in spool/:
// its body and its confirm notice are committed inline with their records
// over a real SMTP session, and both read back through the store.
func TestSmallHeldMailWritesNoFile(t *testing.T) {
	dir := t.TempDir()
	p := openPipe(t, dir, pipePolicy("hold_sender"), &recorder{}, nil)
	defer p.close()
	msg := "From: <alice@example.com>\r\nTo: <" + pipeRcpt + ">\r\nSubject: small\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"q.csv\"\r\n\r\nA-100,3,1200\r\n--b--\r\n"
	if d := sendOne(t, p.addr, "alice@example.com", pipeRcpt, []byte(msg)); d < 0 {
		t.Fatal("refused")
	}
	var held, notices int
	p.store.ForEach(func(r *spool.Record) bool {
		if !r.InlineBody {
			t.Errorf("%s (%s, %s) is not inline", r.ID, r.Kind, r.State)
		}
		b, err := p.store.OpenBody(r.ID)
		if err != nil {
			t.Errorf("read %s: %v", r.ID, err)
		} else {
			b.Close()
		}
		switch {
		case r.Kind == spool.KindMail && r.State == spool.StateHeld:
			held++
		case r.Kind == spool.KindNotice:
			notices++
		}
		return true
	})
	if held != 1 || notices != 1 {
		t.Fatalf("%d held, %d notices; want 1 and 1", held, notices)
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "spool")); err != nil || len(ents) != 0 {
		t.Fatalf("spool files %v, %v; want none", ents, err)
	}
}
