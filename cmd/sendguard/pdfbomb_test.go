package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/testpdf"
)

// bombMail is an external mail carrying the 1 GiB PDF bomb.
func bombMail(t testing.TB, id string) []byte {
	t.Helper()
	pdf, err := testpdf.Bomb()
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.StdEncoding.EncodeToString(pdf)
	var b strings.Builder
	fmt.Fprintf(&b, "From: alice@example.com\r\nTo: bob@partner.example.net\r\nSubject: report %s\r\n"+
		"Message-ID: <%s@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"+
		"--B\r\nContent-Type: text/plain\r\n\r\nsee the report\r\n"+
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=report.pdf\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", id, id)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--B--\r\n")
	return []byte(b.String())
}

// procCPU is a process's user+system CPU time from /proc.
func procCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+sy) * 10 * time.Millisecond
}

// extractionChildren lists pid's live extraction workers.
func extractionChildren(pid int) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmd, []byte("sendguard-extract-")) {
			continue
		}
		st, _ := os.ReadFile(d + "/stat")
		if i := bytes.LastIndexByte(st, ')'); i > 0 {
			if f := strings.Fields(string(st[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(pid) {
				out = append(out, filepath.Base(d))
			}
		}
	}
	return out
}

// The attack of #10: mails whose PDF inflates to 1 GiB. Each is answered,
// held for the security team with the bomb named, and once answered
// nothing goes on parsing: no worker survives and the gateway's CPU use
// stops. An encrypted zip and a zip bomb to the outside are held the same
// way under the embedded default policy.
// Both worker programs: sendguard-extract beside the binary (the default)
// and the gateway re-executed (extraction.worker: self).
func TestPDFBombHeldAndStopped(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	for _, tc := range []struct{ worker, logged string }{
		{"", filepath.Join(filepath.Dir(sendguardBin(t)), "sendguard-extract")},
		{"self", "sendguard itself, re-executed (extraction.worker: self)"},
	} {
		t.Run("worker="+tc.worker, func(t *testing.T) { testPDFBombHeldAndStopped(t, tc.worker, tc.logged) })
	}
}

func testPDFBombHeldAndStopped(t *testing.T, worker, logged string) {
	sk := startSink(t)
	cfg := "extraction:\n  pdf_timeout: 10s\n  pdf_cpu: 3s\n"
	if worker != "" {
		cfg += "  worker: " + worker + "\n"
	}
	in := newInstance(t, sk.Addr, cfg)
	in.start()
	pid := in.cmd.Process.Pid
	if !strings.Contains(in.logs(), logged) {
		t.Errorf("log does not name the worker %q:\n%s", logged, in.logs())
	}

	const bombs = 3
	for i := range bombs {
		start := time.Now()
		id := fmt.Sprintf("bomb%d", i)
		if err := sendMail(in.smtp, "alice@example.com", []string{"bob@partner.example.net"}, bombMail(t, id)); err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s answered after %v; budget is 10s", id, d)
		}
	}
	for _, f := range []string{"zip-encrypted.eml", "zip-bomb.eml"} {
		raw, err := os.ReadFile(filepath.Join("../../testdata/rules", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := sendMail(in.smtp, "alice@example.com", []string{"victim@partner.co.jp"}, raw); err != nil {
			t.Fatalf("send %s: %v", f, err)
		}
	}
	// Nothing that was given a file is alive. A spare started for the next
	// PDF (extraction.spare_workers, 1 by default) may wait: it has no
	// CPU limit until its file comes.
	kids := extractionChildren(pid)
	var spares []string
	for _, k := range kids {
		limits, err := os.ReadFile("/proc/" + k + "/limits")
		if err == nil && bytes.Contains(limits, []byte("Max cpu time              unlimited")) {
			spares = append(spares, k)
		}
	}
	if len(kids) != len(spares) || len(spares) > 1 {
		t.Errorf("extraction workers alive after the replies: %v, of which waiting spares %v", kids, spares)
	}
	before := procCPU(t, pid)
	time.Sleep(2 * time.Second)
	if used := procCPU(t, pid) - before; used > 500*time.Millisecond {
		t.Errorf("gateway used %v of CPU in the 2s after answering", used)
	}
	if n := len(mailsFrom(sk, "alice@example.com")); n != 0 {
		t.Fatalf("%d messages reached the next hop", n)
	}
	out, err := in.cli("queue", "list", "-state", "held")
	if err != nil || strings.Count(out, " held ") != bombs+2 {
		t.Fatalf("queue list -state held: %v\n%s", err, out)
	}
	for _, m := range regexp.MustCompile(`(?m)^([0-9A-Z]{21})\s`).FindAllStringSubmatch(out, -1) {
		if show, _ := in.cli("queue", "show", m[1]); !strings.Contains(show, "unscannable-external") {
			t.Errorf("%s not held by unscannable-external:\n%.2000s", m[1], show)
		}
	}

	// the same analysis offline names the bomb (check -json is the contract)
	eml := filepath.Join(t.TempDir(), "bomb.eml")
	if err := os.WriteFile(eml, bombMail(t, "offline"), 0o600); err != nil {
		t.Fatal(err)
	}
	js, _ := exec.Command(sendguardBin(t), "check", "-config", in.cfgPath, "-json", eml).Output()
	var res struct {
		Actions  []string
		Rules    []string
		Findings []struct{ Detector, Location, Reason string }
	}
	if err := json.Unmarshal(js, &res); err != nil {
		t.Fatalf("check -json: %v\n%s", err, js)
	}
	named := false
	for _, f := range res.Findings {
		named = named || f.Detector == "unscannable" && f.Location == "attachment:report.pdf" && strings.HasPrefix(f.Reason, "PDF bomb")
	}
	if !named || !slices.Equal(res.Actions, []string{"hold_review"}) || !slices.Equal(res.Rules, []string{"unscannable-external"}) {
		t.Errorf("check -json of the bomb: %s", js)
	}
}
