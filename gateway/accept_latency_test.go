package gateway_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

// TestAcceptLatencyDuringReleases: acceptance must not wait for releases.
// Twenty held mails with a 1.5 MiB attachment are released at once under
// [hold_review, encrypt] (an AES zip each, then delivery) while a client
// keeps sending small plain mails over loopback; the time from connect to
// the 250 after DATA is compared with the same measured idle, in the same
// run. It is a measurement, so it runs with SENDGUARD_LOAD=1 (a busy
// shared machine makes single runs noisy); SENDGUARD_CPUPROFILE=FILE
// writes a CPU profile of the release phase. SENDGUARD_LOAD_AB=N runs N
// rounds of two variants, alternating, to compare them in one run: by
// default the step worker's spare P on and off
// (disposition.StepRunner.SpareProc); with SENDGUARD_LOAD_AB_INLINE=1
// small bodies inline or in files (spool.Store.NoInline); with
// SENDGUARD_LOAD_AB_PEER=1 the next hop reading large bodies through or
// keeping a copy of each (recorder.streamOver); with
// SENDGUARD_LOAD_AB_PACE=1 the derived copies' chunked writeback on and
// off (spool.Store.DerivedPace), with SENDGUARD_LOAD_AB_PACE=N (bytes,
// > 1) chunks of N against the default.
// SENDGUARD_TRACE=FILE writes an execution trace of each release phase to
// FILE.1, FILE.2, …, each probe a "probe-idle" or "probe-busy" region, to
// see what slow acceptances wait on.
//
//	SENDGUARD_LOAD=1 go test -run TestAcceptLatencyDuringReleases -v ./gateway
func TestAcceptLatencyDuringReleases(t *testing.T) {
	if os.Getenv("SENDGUARD_LOAD") == "" {
		t.Skip("set SENDGUARD_LOAD=1 to run the load measurement")
	}
	rounds, _ := strconv.Atoi(os.Getenv("SENDGUARD_LOAD_AB"))
	if rounds <= 0 {
		measureAcceptDuringReleases(t, releaseVariant{})
		return
	}
	variants := []releaseVariant{{name: "spare-P"}, {name: "no-spare-P", noSpare: true}}
	if os.Getenv("SENDGUARD_LOAD_AB_INLINE") != "" {
		variants = []releaseVariant{{name: "inline"}, {name: "files", noInline: true}}
	}
	if os.Getenv("SENDGUARD_LOAD_AB_PEER") != "" {
		variants = []releaseVariant{{name: "streaming-peer"}, {name: "buffering-peer", bufferPeer: true}}
	}
	if os.Getenv("SENDGUARD_LOAD_AB_PACE") != "" {
		variants = []releaseVariant{{name: "paced"}, {name: "unpaced", pace: -1}}
		if n, _ := strconv.ParseInt(os.Getenv("SENDGUARD_LOAD_AB_PACE"), 10, 64); n > 1 {
			variants[1] = releaseVariant{name: fmt.Sprintf("paced-%d", n), pace: n}
		}
	}
	pooled := map[string][3][]time.Duration{}
	for i := range rounds {
		for _, v := range variants {
			t.Run(fmt.Sprintf("round%d/%s", i+1, v.name), func(t *testing.T) {
				idle, busy, took := measureAcceptDuringReleases(t, v)
				p := pooled[v.name]
				pooled[v.name] = [3][]time.Duration{append(p[0], idle...), append(p[1], busy...), append(p[2], took)}
			})
		}
	}
	for _, v := range variants {
		idle, busy, took := pooled[v.name][0], pooled[v.name][1], pooled[v.name][2]
		if len(idle) == 0 || len(busy) == 0 {
			continue
		}
		i50, i99, b50, b99 := percentile(idle, 50), percentile(idle, 99), percentile(busy, 50), percentile(busy, 99)
		t.Logf("pooled %s: idle p50 %s p99 %s (n=%d); during releases p50 %s p99 %s (n=%d); ratio p50 %.2f× p99 %.2f×; releases delivered in median %s",
			v.name, i50.Round(time.Microsecond), i99.Round(time.Microsecond), len(idle), b50.Round(time.Microsecond),
			b99.Round(time.Microsecond), len(busy), float64(b50)/float64(i50), float64(b99)/float64(i99),
			percentile(took, 50).Round(time.Millisecond))
	}
}

// releaseVariant is one side of an A/B measurement.
type releaseVariant struct {
	name     string
	pace     int64 // spool.Store.DerivedPace
	noSpare  bool  // !disposition.StepRunner.SpareProc
	noInline bool  // spool.Store.NoInline
	// bufferPeer: the next hop keeps a copy of every body, as before it
	// read large ones through (recorder.streamOver).
	bufferPeer bool
}

// idleProbes is the number of idle acceptances measured per round.
const idleProbes = 800

var (
	traceSeq    int    // numbers the traces of one run
	probeRegion string // the trace region of the probes: idle or busy
)

func percentile(d []time.Duration, q int) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[(len(d)*q+99)/100-1]
}

// measureAcceptDuringReleases runs one measurement of variant v and
// returns the idle and busy latencies and how long the releases took.
func measureAcceptDuringReleases(t *testing.T, v releaseVariant) (idle, busy []time.Duration, took time.Duration) {
	// The next hop reads each released copy through to the end (every
	// byte still leaves the spool through the delivery path) but keeps
	// none: a real one is another process, and a 2 MiB buffer per copy in
	// this one was a third of the bytes allocated during the releases.
	rec := &recorder{streamOver: 64 << 10}
	if v.bufferPeer {
		rec.streamOver = 0
	}
	p := openPipe(t, t.TempDir(), pipePolicy("hold_review, encrypt"), rec, nil)
	defer p.close()
	p.store.DerivedPace = v.pace
	p.steps.SpareProc = !v.noSpare
	p.store.NoInline = v.noInline

	blob := make([]byte, 3<<19)
	rand.Read(blob)
	b64 := base64.StdEncoding.EncodeToString(blob)
	var lines []string
	for i := 0; i < len(b64); i += 76 {
		lines = append(lines, b64[i:min(i+76, len(b64))])
	}
	att := strings.Join(lines, "\r\n")
	for i := range 20 {
		msg := fmt.Sprintf("From: <alice@example.com>\r\nTo: <%s>\r\nSubject: big %d\r\nMessage-ID: <big%d@test>\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"+
			"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data%d.bin\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n", pipeRcpt, i, i, i, att)
		if d := sendOne(t, p.addr, "alice@example.com", pipeRcpt, []byte(msg)); d < 0 {
			t.Fatal("big mail refused")
		}
	}
	var held []string
	p.store.ForEach(func(r *spool.Record) bool {
		if r.State == spool.StateHeld {
			held = append(held, r.ID)
		}
		return true
	})
	if len(held) != 20 {
		t.Fatalf("%d held, want 20", len(held))
	}

	ctx, cancel := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	workers.Add(2)
	go func() { defer workers.Done(); p.steps.Run(ctx) }()
	go func() { defer workers.Done(); p.runner.Run(ctx) }()
	defer func() { cancel(); workers.Wait() }()

	n := 0
	probe := func() time.Duration {
		n++
		msg := fmt.Sprintf("From: <bob@example.com>\r\nTo: <x@example.com>\r\nSubject: ping %d\r\n\r\nping\r\n", n)
		d := sendOne(t, p.addr, "bob@example.com", "x@example.com", []byte(msg))
		if d < 0 {
			t.Fatal("probe refused")
		}
		return d
	}
	pct := percentile
	for range 20 {
		probe() // warm up
	}
	if path := os.Getenv("SENDGUARD_TRACE"); path != "" && !trace.IsEnabled() {
		traceSeq++
		f, err := os.Create(fmt.Sprintf("%s.%d", path, traceSeq))
		if err != nil {
			t.Fatal(err)
		}
		trace.Start(f)
		defer func() { trace.Stop(); f.Close() }()
	}
	// Half the idle probes run before the releases and half after, so a
	// shared machine's load drifting during the round weighs on both sides;
	// there are about as many as during the releases, so that each p99
	// stands on as many samples.
	probeRegion = "idle"
	for range idleProbes / 2 {
		idle = append(idle, probe())
	}

	stopProfile := func() {}
	defer func() { stopProfile() }()
	if path := os.Getenv("SENDGUARD_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	}
	bigs := func() int {
		return rec.count(func(g recorded) bool { return g.Kind == spool.KindMail && strings.HasPrefix(g.Subject, "big") })
	}
	probeRegion = "busy"
	t0 := time.Now()
	var rel sync.WaitGroup
	for _, id := range held {
		rel.Add(1)
		go func() {
			defer rel.Done()
			if _, err := p.q.Decide(context.Background(), id, hold.StateReleased, hold.Actor{Name: "admin", Role: "admin"}, "", ""); err != nil {
				t.Errorf("release: %v", err)
			}
		}()
	}
	for bigs() < 20 && len(busy) < 5000 && time.Since(t0) < 5*time.Minute {
		busy = append(busy, probe())
	}
	took = time.Since(t0)
	stopProfile()
	stopProfile = func() {}
	rel.Wait()
	if bigs() != 20 {
		t.Fatalf("%d of 20 released mails delivered", bigs())
	}
	if n := rec.count(func(g recorded) bool { return strings.HasPrefix(g.Subject, "big") && g.Size < 2<<20 }); n > 0 {
		t.Fatalf("%d released mails delivered short of their zip", n)
	}
	if len(busy) < 20 {
		t.Fatalf("only %d probes during the releases", len(busy))
	}
	probeRegion = "idle"
	for range idleProbes / 2 {
		idle = append(idle, probe())
	}
	i50, i99, b50, b99 := pct(idle, 50), pct(idle, 99), pct(busy, 50), pct(busy, 99)
	t.Logf("accept latency idle p50 %s p99 %s (n=%d); during 20 AES-zip releases p50 %s p99 %s (n=%d); ratio p50 %.2f× p99 %.2f×; releases delivered in %s",
		i50.Round(time.Microsecond), i99.Round(time.Microsecond), len(idle), b50.Round(time.Microsecond), b99.Round(time.Microsecond),
		len(busy), float64(b50)/float64(i50), float64(b99)/float64(i99), took.Round(time.Millisecond))
	if b99 > 4*i99+50*time.Millisecond {
		t.Errorf("acceptance waited for releases: p99 %s vs %s idle", b99, i99)
	}
	return idle, busy, took
}

// sendOne sends one mail and returns the time from connect to the 250
// after DATA, or -1 if refused.
func sendOne(t *testing.T, addr, from, to string, msg []byte) time.Duration {
	t.Helper()
	endRegion := sync.OnceFunc(trace.StartRegion(context.Background(), "probe-"+probeRegion).End)
	defer endRegion()
	t0 := time.Now()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from, nil); err != nil {
		return -1
	}
	if err := c.Rcpt(to, nil); err != nil {
		return -1
	}
	w, err := c.Data()
	if err != nil {
		return -1
	}
	w.Write(msg)
	if err := w.Close(); err != nil {
		return -1
	}
	d := time.Since(t0)
	endRegion()
	c.Quit()
	return d
}
