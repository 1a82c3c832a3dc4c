package intake

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendguard/sendguard/gateway/disposition"
	rinspect "github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// earlyRecorder is the real policy inspector, counting the analyses begun
// while a body arrived and the inspections that finished one.
type earlyRecorder struct {
	*disposition.PolicyInspector
	began, finished atomic.Int32
}

func (r *earlyRecorder) Begin(in *disposition.Inbound, body *spool.TailReader) *disposition.Early {
	r.began.Add(1)
	return r.PolicyInspector.Begin(in, body)
}

func (r *earlyRecorder) Inspect(ctx context.Context, in *disposition.Inbound) (*disposition.Verdict, error) {
	if in.Early != nil {
		r.finished.Add(1)
	}
	return r.PolicyInspector.Inspect(ctx, in)
}

// newEarlyRecorder rejects every message with an attachment.
func newEarlyRecorder(t *testing.T) *earlyRecorder {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(path, []byte(`version: 1
rules:
  - name: no-files
    when: size(attachments) > 0
    actions: [reject]
    reason:
      en: no files
  - name: default
    when: "true"
    actions: [deliver]
`), 0o600)
	pol, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := rinspect.New(rinspect.Config{InternalDomains: []string{"example.com"}, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	return &earlyRecorder{PolicyInspector: &disposition.PolicyInspector{Rules: rules, Log: slog.New(slog.DiscardHandler)}}
}

// trickle hands out data a few KiB at a time, pausing now and then, as a
// client on a real network does.
type trickle struct {
	data []byte
	n    int
}

func (r *trickle) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.n++; r.n%8 == 0 {
		time.Sleep(time.Millisecond)
	}
	k := copy(p[:min(len(p), 4096)], r.data)
	r.data = r.data[k:]
	return k, nil
}

// bigMail is a message over spool.MaxInline whose attachment comes last.
func bigMail(extra string) string {
	return "From: <alice@example.com>\r\nTo: <bob@partner.test>\r\nSubject: report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" +
		strings.Repeat("the quarterly figures are attached below.\r\n", 4000) + extra +
		"--b\r\nContent-Type: text/plain; name=\"a.txt\"\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\n\r\nfile\r\n--b--\r\n"
}

// A message over spool.MaxInline is analysed as it arrives, and the
// verdict is the whole message's: the attachment after 170 KB of text
// decides it. A small message is analysed after its last byte.
func TestEarlyAnalysisOfALargeMessage(t *testing.T) {
	r := newEarlyRecorder(t)
	e := newEnv(t, r)
	_, out := e.run(&trickle{data: []byte(bigMail(""))})
	if out.Kind != Rejected || out.Reason == "" {
		t.Fatalf("outcome %+v, want the attachment's rejection", out)
	}
	if r.began.Load() != 1 || r.finished.Load() != 1 {
		t.Fatalf("analyses begun early %d, finished %d; want 1 and 1", r.began.Load(), r.finished.Load())
	}
	if e.kept(t, out.QueueID) {
		t.Fatal("a rejected message was kept")
	}

	_, out = e.run(strings.NewReader(mail))
	if out.Kind != Accepted || r.began.Load() != 1 || r.finished.Load() != 1 {
		t.Fatalf("small mail: outcome %v, begun %d", out.Kind, r.began.Load())
	}
}

// Data refused after the analysis began stops it: nothing is kept, no
// analysis is left running.
func TestEarlyAnalysisStopsWithRefusedData(t *testing.T) {
	r := newEarlyRecorder(t)
	e := newEnv(t, r)
	before := runtime.NumGoroutine()
	_, out := e.run(&trickle{data: []byte(bigMail("a bare\nline feed\r\n"))})
	if out.Kind != DataRefused || out.Data != DataBareLineEnding {
		t.Fatalf("outcome %+v", out)
	}
	if r.began.Load() != 1 || r.finished.Load() != 0 {
		t.Fatalf("analyses begun %d, finished %d; want 1 and 0", r.began.Load(), r.finished.Load())
	}
	if e.kept(t, out.QueueID) {
		t.Fatal("refused data was kept")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after the refusal, %d before", n, before)
	}
}
