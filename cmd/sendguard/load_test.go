package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoadRelay measures relay throughput in one run: Postfix's smtp-source
// sends N messages of ~10 KB over 20 sessions (1) straight into smtp-sink,
// (2) through sendguard into smtp-sink, (3) through a Postfix relay into
// smtp-sink. Figures are ratios against (1) from the same run. It is a
// measurement, not a check: run it with SENDGUARD_LOAD=1
//
//	SENDGUARD_LOAD=1 go test -run TestLoadRelay -v ./cmd/sendguard
func TestLoadRelay(t *testing.T) {
	if os.Getenv("SENDGUARD_LOAD") == "" {
		t.Skip("set SENDGUARD_LOAD=1 to run the load measurement")
	}
	requirePostfix(t)
	n, size, sessions := 2000, 10240, 20
	if v, err := strconv.Atoi(os.Getenv("SENDGUARD_LOAD_N")); err == nil {
		n = v
	}
	sinkAddr := freePort(t)
	sinkCmd := exec.Command("/usr/sbin/smtp-sink", "-u", "postfix", sinkAddr, "256")
	if err := sinkCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sinkCmd.Process.Kill(); sinkCmd.Wait() }()
	time.Sleep(300 * time.Millisecond)

	source := func(addr string) time.Duration {
		t0 := time.Now()
		out, err := exec.Command("/usr/sbin/smtp-source", "-s", strconv.Itoa(sessions), "-l", strconv.Itoa(size),
			"-m", strconv.Itoa(n), "-f", "sender@example.com", "-t", "rcpt@partner.test", addr).CombinedOutput()
		if err != nil {
			t.Fatalf("smtp-source %s: %v %s", addr, err, out)
		}
		return time.Since(t0)
	}
	base := source(sinkAddr)

	in := newInstance(t, sinkAddr, "")
	cfg, _ := os.ReadFile(in.cfgPath)
	os.WriteFile(in.cfgPath, []byte(strings.Replace(string(cfg), "level: debug", "level: warn", 1)), 0o600)
	in.start()
	t0 := time.Now()
	sg := source(in.smtp)
	delivered := func() float64 { return metric(t, in.web, "sendguard_delivered_total") }
	deadline := time.Now().Add(2 * time.Minute)
	for delivered() < float64(n) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	sgDrain := time.Since(t0)
	rss := peakRSS(in.cmd.Process.Pid)

	pf := startPostfix(t, sinkAddr)
	pfd := source(pf.smtpd)

	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	t.Logf("%d messages x %d bytes, %d sessions", n, size, sessions)
	t.Logf("direct to smtp-sink:      %7.0f msg/s", rate(base))
	t.Logf("through sendguard:        %7.0f msg/s accepted (%.2f of direct), all delivered within %s; peak RSS %d KiB",
		rate(sg), rate(sg)/rate(base), sgDrain.Round(time.Millisecond), rss)
	t.Logf("through Postfix relay:    %7.0f msg/s accepted (%.2f of direct); sendguard/Postfix = %.2f",
		rate(pfd), rate(pfd)/rate(base), rate(sg)/rate(pfd))
	t.Logf("sendguard accept latency (end of DATA to 250): p50 <= %s, p99 <= %s",
		quantile(t, in.web, 0.5), quantile(t, in.web, 0.99))
}

func metricsText(t testing.TB, web string) string {
	out, err := exec.Command("curl", "-s", "http://"+web+"/metrics").Output()
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return string(out)
}

func metric(t testing.TB, web, name string) float64 {
	for _, l := range strings.Split(metricsText(t, web), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

// quantile reads the accept-latency histogram's bucket bound for q.
func quantile(t testing.TB, web string, q float64) string {
	var bounds []string
	var counts []float64
	for _, l := range strings.Split(metricsText(t, web), "\n") {
		if !strings.HasPrefix(l, "sendguard_accept_latency_seconds_bucket{") {
			continue
		}
		le := l[strings.Index(l, `le="`)+4:]
		le = le[:strings.IndexByte(le, '"')]
		v, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
		bounds, counts = append(bounds, le), append(counts, v)
	}
	if len(counts) == 0 {
		return "?"
	}
	total := counts[len(counts)-1]
	for i, c := range counts {
		if c >= q*total {
			return bounds[i] + "s"
		}
	}
	return "?"
}

func peakRSS(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			v, _ := strconv.Atoi(strings.Fields(l)[1])
			return v
		}
	}
	return 0
}

// TestLoadMemoryFlat measures sendguard's peak RSS while 20 sessions send
// messages with a 10 KB and then a 4 MB attachment (a fresh instance each):
// bodies are streamed to the spool and attachments are never held whole,
// so the peak must not grow with message size times concurrency.
//
//	SENDGUARD_LOAD=1 go test -run TestLoadMemoryFlat -v ./cmd/sendguard
func TestLoadMemoryFlat(t *testing.T) {
	if os.Getenv("SENDGUARD_LOAD") == "" {
		t.Skip("set SENDGUARD_LOAD=1 to run the memory measurement")
	}
	peak := func(size int) int {
		sk := startSink(t)
		in := newInstance(t, sk.Addr, "")
		cfg, _ := os.ReadFile(in.cfgPath)
		os.WriteFile(in.cfgPath, []byte(strings.Replace(string(cfg), "level: debug", "level: warn", 1)), 0o600)
		in.start()
		blob := make([]byte, size)
		for i := range blob {
			blob[i] = byte(i*7919 + i/13)
		}
		msg := binaryMail(blob)
		var wg sync.WaitGroup
		for s := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					to := []string{fmt.Sprintf("r%d@example.com", s)} // internal: no encryption, pure relay + inspection
					if err := sendMail(in.smtp, "a@example.com", to, msg); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if _, err := sk.Wait(60, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		return peakRSS(in.cmd.Process.Pid)
	}
	small, large := peak(10<<10), peak(4<<20)
	t.Logf("peak RSS, 20 sessions x 3 messages: 10 KB attachments %d KiB, 4 MB attachments %d KiB (%.2fx for 400x the size)",
		small, large, float64(large)/float64(small))
}

func binaryMail(blob []byte) []byte {
	var b strings.Builder
	b.WriteString("From: <a@example.com>\r\nTo: <r@example.com>\r\nSubject: blob\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"blob.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(blob)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return []byte(b.String())
}
