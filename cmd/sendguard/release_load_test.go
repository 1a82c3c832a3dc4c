package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/internal/sink"
)

// TestLoadAcceptDuringReleases measures whether acceptance waits for
// releases: the p99 time to send one small plain mail (connect to QUIT
// after 250), idle and while 20 held mails with 1.5 MiB attachments are
// released into AES zips at once. Releases used to zip inside the
// store's write transaction, so every acceptance queued behind them
// (measured 12.6× the idle p99 that way). The goal is 1.5×; what remains
// is CPU contention, which on a small shared machine dominates, so the
// check is generous: it fails only above 4× the idle p99 plus 50 ms. Run
// it with SENDGUARD_LOAD=1.
//
// Each probe is timed per SMTP phase on the client (connect and greeting,
// EHLO, MAIL, RCPT, DATA, body to 250, QUIT) beside the gateway's own
// accept_ms, so that what the gateway adds can be told from what the
// client's process adds. The next hop is a sink in a process of its own,
// as a real one is: it reads every message through and reports its size,
// keeping nothing (SENDGUARD_LOAD_SINK=inproc puts the former recording
// sink, which keeps every body, in this process; =ab alternates both).
// SENDGUARD_LOAD_ROUNDS=N repeats the measurement N times, each on a fresh
// gateway, and pools the samples; SENDGUARD_LOAD_BIN_B=PATH alternates
// this package's binary with another build, for same-run A/B of gateway
// code.
//
//	SENDGUARD_LOAD=1 go test -run TestLoadAcceptDuringReleases -v ./cmd/sendguard
func TestLoadAcceptDuringReleases(t *testing.T) {
	if os.Getenv("SENDGUARD_LOAD") == "" {
		t.Skip("set SENDGUARD_LOAD=1 to run the load measurement")
	}
	rounds, _ := strconv.Atoi(os.Getenv("SENDGUARD_LOAD_ROUNDS"))
	rounds = max(rounds, 1)
	variants := []releaseLoadVariant{{name: "sink-proc"}}
	switch os.Getenv("SENDGUARD_LOAD_SINK") {
	case "inproc":
		variants = []releaseLoadVariant{{name: "sink-inproc", inproc: true}}
	case "ab":
		variants = []releaseLoadVariant{{name: "sink-proc"}, {name: "sink-inproc", inproc: true}}
	}
	if b := os.Getenv("SENDGUARD_LOAD_BIN_B"); b != "" {
		var ab []releaseLoadVariant
		for _, v := range variants {
			w := v
			w.name, w.bin = v.name+"/bin-B", b
			ab = append(ab, v, w)
		}
		variants = ab
	}
	pooled := map[string]*releaseLoadResult{}
	for i := range rounds {
		for _, v := range variants {
			t.Run(fmt.Sprintf("round%d/%s", i+1, v.name), func(t *testing.T) {
				r := measureReleaseLoad(t, v)
				if p := pooled[v.name]; p == nil {
					pooled[v.name] = r
				} else {
					p.add(r)
				}
			})
		}
	}
	if rounds > 1 || len(variants) > 1 {
		for _, v := range variants {
			if r := pooled[v.name]; r != nil {
				r.log(t, "pooled "+v.name)
			}
		}
	}
}

// releaseLoadVariant is one side of an A/B measurement.
type releaseLoadVariant struct {
	name   string
	inproc bool   // the recording sink in the test's process
	bin    string // another sendguard binary ("": this package's)
}

// probe phases, in SMTP order.
var probePhases = [...]string{"connect", "ehlo", "mail", "rcpt", "data", "body", "quit"}

// probeTiming is one probe: the client's time per phase and the gateway's
// accept_ms (DATA to reply).
type probeTiming struct {
	phase [len(probePhases)]time.Duration
	srv   time.Duration // -1 when not known
}

func (p probeTiming) total() (d time.Duration) {
	for _, x := range p.phase {
		d += x
	}
	return d
}

type releaseLoadResult struct {
	idle, busy []probeTiming
	took       []time.Duration
}

func (r *releaseLoadResult) add(o *releaseLoadResult) {
	r.idle = append(r.idle, o.idle...)
	r.busy = append(r.busy, o.busy...)
	r.took = append(r.took, o.took...)
}

func durPct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[(len(d)*p+99)/100-1]
}

func col(ps []probeTiming, f func(probeTiming) time.Duration) []time.Duration {
	var out []time.Duration
	for _, p := range ps {
		if d := f(p); d >= 0 {
			out = append(out, d)
		}
	}
	return out
}

// log reports client p50/p99 (connect to QUIT, as always measured, and
// connect to the 250 after DATA, as the in-process test measures), the
// gateway's accept_ms, and each phase's p99 with, for the slowest 2 % of
// probes during the releases, the mean time per phase against the idle
// probes' mean: where the extra time of the slow ones goes.
func (r *releaseLoadResult) log(t *testing.T, what string) {
	ratio := func(f func(probeTiming) time.Duration, p int) string {
		i, b := durPct(col(r.idle, f), p), durPct(col(r.busy, f), p)
		if i == 0 {
			return "-"
		}
		return fmt.Sprintf("%s → %s (%.2f×)", i.Round(10*time.Microsecond), b.Round(10*time.Microsecond), float64(b)/float64(i))
	}
	total := func(p probeTiming) time.Duration { return p.total() }
	to250 := func(p probeTiming) time.Duration { return p.total() - p.phase[len(probePhases)-1] }
	srv := func(p probeTiming) time.Duration { return p.srv }
	t.Logf("%s: idle n=%d, during releases n=%d, releases took median %s", what, len(r.idle), len(r.busy), durPct(r.took, 50).Round(time.Millisecond))
	t.Logf("%s: client connect..QUIT p50 %s, p99 %s", what, ratio(total, 50), ratio(total, 99))
	t.Logf("%s: client connect..250 p50 %s, p99 %s", what, ratio(to250, 50), ratio(to250, 99))
	t.Logf("%s: gateway accept_ms p50 %s, p99 %s", what, ratio(srv, 50), ratio(srv, 99))
	var b strings.Builder
	for i, name := range probePhases {
		fmt.Fprintf(&b, " %s %s;", name, ratio(func(p probeTiming) time.Duration { return p.phase[i] }, 99))
	}
	t.Logf("%s: p99 per phase:%s", what, b.String())
	slow := slices.Clone(r.busy)
	slices.SortFunc(slow, func(a, b probeTiming) int { return int(b.total() - a.total()) })
	slow = slow[:max(1, len(slow)/50)]
	mean := func(ps []probeTiming, f func(probeTiming) time.Duration) time.Duration {
		d := col(ps, f)
		if len(d) == 0 {
			return 0
		}
		var s time.Duration
		for _, x := range d {
			s += x
		}
		return s / time.Duration(len(d))
	}
	b.Reset()
	for i, name := range probePhases {
		f := func(p probeTiming) time.Duration { return p.phase[i] }
		fmt.Fprintf(&b, " %s %s/%s;", name, mean(r.idle, f).Round(10*time.Microsecond), mean(slow, f).Round(10*time.Microsecond))
	}
	t.Logf("%s: mean per phase, idle / slowest %d during releases:%s accept_ms %s/%s", what, len(slow), b.String(),
		mean(r.idle, srv).Round(10*time.Microsecond), mean(slow, srv).Round(10*time.Microsecond))
}

// releaseSink is the next hop as the test sees it: what arrived from a
// sender, by size.
type releaseSink interface {
	addr() string
	sizesFrom(from string) []int
}

func measureReleaseLoad(t *testing.T, v releaseLoadVariant) *releaseLoadResult {
	var sk releaseSink
	if v.inproc {
		sk = inprocSink{startSink(t)}
	} else {
		sk = startSinkProcess(t)
	}
	in := newInstance(t, sk.addr(), "")
	in.bin = v.bin
	policyPath := in.dir + "/policy.yaml"
	writeFile(policyPath, `version: 1
rules:
  - name: review-then-zip
    when: recipients.external > 0 && size(attachments) > 0
    actions: [hold_review, encrypt]
    reason:
      en: reviewed, then zipped
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg, _ := readFile(in.cfgPath)
	cfg = strings.Replace(cfg, "level: debug", "level: info", 1)
	writeFile(in.cfgPath, cfg+"policy: "+policyPath+"\n")
	in.start()

	blob := make([]byte, 3<<19) // 1.5 MiB, 2 MiB in base64
	rand.Read(blob)
	b64 := base64.StdEncoding.EncodeToString(blob)
	var lines []string
	for i := 0; i < len(b64); i += 76 {
		lines = append(lines, b64[i:min(i+76, len(b64))])
	}
	for i := range 20 {
		msg := fmt.Sprintf("From: <alice@example.com>\r\nTo: <buyer@partner.test>\r\nSubject: big %d\r\nMessage-ID: <big%d@test>\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"+
			"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data%d.bin\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n", i, i, i, strings.Join(lines, "\r\n"))
		if err := sendMail(in.smtp, "alice@example.com", []string{"buyer@partner.test"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	waitFor(t, 30*time.Second, func() bool { ids = heldIDs(t, in); return len(ids) == 20 })

	n := 0
	probe := func() probeTiming {
		n++
		to := []string{"x@example.com"}
		p, err := phasedSend(in.smtp, "bob@example.com", to, testMessage("bob@example.com", to, fmt.Sprintf("p%d", n), "ping"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for range 10 {
		probe() // warm up: connection paths, the probes' first deliveries
	}
	// Half the idle probes before the releases, half after, so that load
	// drifting during the round weighs on both sides.
	var idle, busy []probeTiming
	for range 100 {
		idle = append(idle, probe())
	}

	// The releases go to the admin socket as the CLI sends them, from this
	// process: twenty CLI processes starting at once would measure Go
	// process start-up on a two-core machine, not the gateway.
	api := adminClient(filepath.Join(in.dir, "data", adminapi.AdminSocket))
	var wg sync.WaitGroup
	releasesDone := make(chan struct{})
	t0 := time.Now()
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := api.do("POST", "/v1/hold/"+id+"/release"); err != nil {
				t.Errorf("release %s: %v %s", id, err, out)
			}
		}()
	}
	var took time.Duration
	go func() {
		wg.Wait()
		// The releases are recorded; the zips are made by the step worker
		// afterwards: wait until all 20 are delivered.
		defer close(releasesDone)
		for deadline := time.Now().Add(5 * time.Minute); len(sk.sizesFrom("alice@example.com")) < 20; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("%d of 20 released mails delivered within 5 minutes\n%s", len(sk.sizesFrom("alice@example.com")), in.logs())
				return
			}
		}
		took = time.Since(t0)
	}()
	for done := false; !done || len(busy) < 100; {
		select {
		case <-releasesDone:
			done = true
		default:
		}
		if done && len(busy) >= 100 {
			break
		}
		busy = append(busy, probe())
		if len(busy) > 5000 {
			break
		}
	}
	<-releasesDone
	if t.Failed() {
		t.FailNow()
	}
	for _, size := range sk.sizesFrom("alice@example.com") {
		if size < 2<<20 {
			t.Fatalf("a released mail arrived with %d bytes, short of its zip", size)
		}
	}
	for range 100 {
		idle = append(idle, probe())
	}

	// The gateway's own view, DATA to reply (accept_ms of the message
	// line), in the probes' order (they run one at a time).
	logData, _ := os.ReadFile(filepath.Join(in.dir, "sendguard.log"))
	var srv []time.Duration
	for _, line := range strings.Split(string(logData), "\n") {
		if !strings.Contains(line, "msg=message") || !strings.Contains(line, "from=<bob@example.com>") {
			continue
		}
		if _, v, ok := strings.Cut(line, "accept_ms="); ok {
			v, _, _ = strings.Cut(v, " ")
			if ms, err := strconv.ParseFloat(v, 64); err == nil {
				srv = append(srv, time.Duration(ms*float64(time.Millisecond)))
			}
		}
	}
	all := append(append(append([]probeTiming{}, idle[:100]...), busy...), idle[100:]...)
	if len(srv) == 10+len(all) {
		for i := range all {
			all[i].srv = srv[10+i]
		}
		copy(idle[:100], all[:100])
		copy(busy, all[100:100+len(busy)])
		copy(idle[100:], all[100+len(busy):])
	} else {
		t.Logf("%d message lines of probes, want %d", len(srv), 10+len(all))
	}
	r := &releaseLoadResult{idle: idle, busy: busy, took: []time.Duration{took}}
	r.log(t, v.name)
	idle99, busy99 := durPct(col(idle, probeTiming.total), 99), durPct(col(busy, probeTiming.total), 99)
	if busy99 > 4*idle99+50*time.Millisecond {
		t.Errorf("acceptance waited for releases: p99 %s vs %s idle", busy99, idle99)
	}
	return r
}

// phasedSend sends one message as net/smtp's SendMail does (EHLO, MAIL,
// RCPT, DATA, QUIT; no TLS, which the test gateway does not offer) and
// times each phase up to its reply.
func phasedSend(addr, from string, to []string, msg []byte) (p probeTiming, err error) {
	p.srv = -1
	t0 := time.Now()
	lap := func(i int) {
		now := time.Now()
		p.phase[i] = now.Sub(t0)
		t0 = now
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return p, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(c)
	reply := func(want string) error {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if !strings.HasPrefix(line, want) {
				return fmt.Errorf("want %s, got %q", want, line)
			}
			if len(line) < 4 || line[3] != '-' {
				return nil
			}
		}
	}
	cmd := func(i int, line, want string) error {
		if _, err := io.WriteString(c, line+"\r\n"); err != nil {
			return err
		}
		if err := reply(want); err != nil {
			return fmt.Errorf("%s: %w", line, err)
		}
		lap(i)
		return nil
	}
	if err := reply("220"); err != nil {
		return p, err
	}
	lap(0)
	if err := cmd(1, "EHLO localhost", "250"); err != nil {
		return p, err
	}
	if err := cmd(2, "MAIL FROM:<"+from+">", "250"); err != nil {
		return p, err
	}
	for _, a := range to {
		if err := cmd(3, "RCPT TO:<"+a+">", "250"); err != nil {
			return p, err
		}
	}
	if err := cmd(4, "DATA", "354"); err != nil {
		return p, err
	}
	var body strings.Builder
	for _, line := range strings.SplitAfter(string(msg), "\n") {
		if strings.HasPrefix(line, ".") {
			body.WriteString(".")
		}
		body.WriteString(line)
	}
	body.WriteString(".\r\n")
	if _, err := io.WriteString(c, body.String()); err != nil {
		return p, err
	}
	if err := reply("250"); err != nil {
		return p, fmt.Errorf("end of data: %w", err)
	}
	lap(5)
	err = cmd(6, "QUIT", "221")
	return p, err
}

type inprocSink struct{ sk *sink.Sink }

func (s inprocSink) addr() string { return s.sk.Addr }
func (s inprocSink) sizesFrom(from string) (out []int) {
	for _, m := range mailsFrom(s.sk, from) {
		out = append(out, len(m.Data))
	}
	return out
}

// sinkProcess is a next hop in a process of its own: this test binary
// re-executed in sink mode (see TestMain), reporting each message's
// sender and size on its stdout.
type sinkProcess struct {
	a     string
	mu    sync.Mutex
	sizes map[string][]int
}

func (s *sinkProcess) addr() string { return s.a }
func (s *sinkProcess) sizesFrom(from string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sizes[from])
}

// sinkModeEnv makes the test binary a sink (runSinkMode).
const sinkModeEnv = "SENDGUARD_TEST_SINK_MODE"

func startSinkProcess(t *testing.T) *sinkProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), sinkModeEnv+"=1")
	stdin, err := cmd.StdinPipe() // the sink exits when it closes
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatal("sink process: no address")
	}
	s := &sinkProcess{a: sc.Text(), sizes: map[string][]int{}}
	go func() {
		for sc.Scan() {
			from, size, ok := strings.Cut(sc.Text(), " ")
			n, err := strconv.Atoi(size)
			if !ok || err != nil {
				continue
			}
			s.mu.Lock()
			s.sizes[from] = append(s.sizes[from], n)
			s.mu.Unlock()
		}
	}()
	return s
}

// runSinkMode serves SMTP on a loopback port: it prints the address, then
// "sender size" for each message, reading every body to its end and
// keeping none; it exits when stdin closes.
func runSinkMode() {
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	sk, err := sink.StartWith("127.0.0.1:0", sink.Options{SizeOnly: true, OnMessage: func(m sink.Message) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%s %d\n", m.From, m.Size)
		out.Flush()
	}})
	if err != nil {
		log.Fatal(err)
	}
	mu.Lock()
	fmt.Fprintln(out, sk.Addr)
	out.Flush()
	mu.Unlock()
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}
