// Command sendguard-bench measures sendguard on realistic traffic and
// compares it with a Postfix relay in the same run.
//
// It generates a corpus of Japanese business mail from a fixed seed
// (ISO-2022-JP and UTF-8 bodies; by default 70 % plain, 20 % with an
// Office/PDF/CSV attachment to an external recipient, which the default
// policy encrypts, 10 % with personal data, which it holds), drives N
// parallel SMTP sessions into the gateway, and counts deliveries at its own
// sink by Message-ID (password mails and other notices apart). It reports
// msgs/s, accept latency p50/p99 (end of DATA to the reply, seen by the
// client), CPU seconds per message by class and peak RSS of the gateway,
// then sends the same corpus through a private Postfix relay (root,
// loopback only) and prints the ratio.
//
//	go build -o bin/sendguard ./cmd/sendguard
//	go build -o bin/sendguard-extract ./cmd/sendguard-extract
//	go run ./cmd/sendguard-bench -sendguard bin/sendguard -n 2000 -sessions 20
//	go run ./cmd/sendguard-bench -smoke            # a few hundred small messages
//	go run ./cmd/sendguard-bench -n 2000 -rounds 5 # the median of 5 alternating rounds
//
// The gateway runs its PDF extraction workers as the sendguard-extract
// beside its binary, or re-executes itself when there is none (about ten
// times the CPU per PDF); the tool says which at start.
//
// CPU per class comes from class-only phases run after the mixed one: the
// gateway's user+system time (/proc/PID/stat) across a phase, once every
// message of the phase is delivered (with its password mail) and the
// process is idle again, divided by the phase's messages. Every phase and
// wait is bounded by -timeout.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sendguard/sendguard/internal/postfixrun"
)

type options struct {
	n, sessions, classN int
	warmup              int  // messages sent before each relay's mixed phase, not measured
	postfixFirst        bool // Postfix's phase before the gateway's
	rounds              int  // mixed phases of each relay, alternating
	seed                uint64
	minSize, maxSize    int64
	mix                 [numClasses]float64
	attach              string // attachment kind of encrypt-class mail
	bin                 string // sendguard binary to start
	gatewayAddr         string // or an already running gateway
	gatewayPID          int    // its pid, for CPU and RSS
	sinkAddr            string
	postfix             string // auto, on, off
	timeout             time.Duration
	workDir             string
	keep                bool
	rate                float64 // offered messages per second; 0: as fast as the sessions go
	link                float64 // each session's DATA in bytes a second; 0: as fast as loopback goes
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sendguard-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o, os.Stderr)
	if rep != nil {
		rep.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sendguard-bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("sendguard-bench", flag.ContinueOnError)
	var o options
	fs.IntVar(&o.n, "n", 2000, "messages in the corpus")
	fs.IntVar(&o.sessions, "sessions", 20, "parallel SMTP sessions")
	fs.IntVar(&o.classN, "class-n", 200, "messages per class-only phase (CPU per class); 0 skips them")
	fs.BoolVar(&o.postfixFirst, "postfix-first", false, "run the Postfix phase before the gateway's (the other order; each can leave the machine busy for the next)")
	fs.IntVar(&o.rounds, "rounds", 1, "mixed phases of each relay, alternating; each round swaps which relay goes first, and the report gives every round's ratio and their median")
	fs.IntVar(&o.warmup, "warmup", 0, "messages of the corpus sent to each relay before its measured phase (caches, heap and database warm), not counted")
	seed := fs.Uint64("seed", 1, "corpus seed")
	minSize := fs.String("min-size", "5KB", "smallest message")
	maxSize := fs.String("max-size", "10MB", "largest attachment")
	mix := fs.String("mix", "70,20,10", "percent plain,encrypt,hold")
	fs.StringVar(&o.attach, "attach", "mixed", "attachment of encrypt-class mail: mixed, xlsx, docx, pdf or csv")
	fs.StringVar(&o.bin, "sendguard", "", "sendguard binary to start (default: bin/sendguard, else sendguard in PATH)")
	fs.StringVar(&o.gatewayAddr, "gateway", "", "measure a running gateway at this address instead (its delivery.next_hop must be -sink)")
	fs.StringVar(&o.sinkAddr, "sink", "127.0.0.1:0", "loopback address of the counting sink (the next hop)")
	fs.IntVar(&o.gatewayPID, "pid", 0, "with -gateway: its process id, for CPU and RSS")
	fs.StringVar(&o.postfix, "postfix", "auto", "compare with a private Postfix relay: auto (when installed and root), on, off")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "bound on each phase (sending plus draining)")
	fs.StringVar(&o.workDir, "dir", "", "work directory for the corpus and the gateway's data (default: a temporary one)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fs.Float64Var(&o.rate, "rate", 0, "offer messages at this mean rate (msg/s, Poisson arrivals) instead of as fast as the sessions go: accept latency at a given load rather than at saturation (a message waits for a free session when all are busy)")
	mbits := fs.Float64("link", 0, "send each message's bytes at this many Mbit/s per session, as a sending MTA on a real network does (0: as fast as loopback goes); accept latency still counts from the end of DATA")
	smoke := fs.Bool("smoke", false, "smoke run: 300 messages of at most 64 KB, 10 sessions, class phases of 30 (flags given explicitly win)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *mbits < 0 {
		return o, fmt.Errorf("-link: %v Mbit/s", *mbits)
	}
	o.link = *mbits * 1e6 / 8
	var err error
	if o.minSize, err = parseSize(*minSize); err != nil {
		return o, fmt.Errorf("-min-size: %w", err)
	}
	if o.maxSize, err = parseSize(*maxSize); err != nil {
		return o, fmt.Errorf("-max-size: %w", err)
	}
	if *smoke {
		// smoke sizes, unless a flag says otherwise
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, apply := range map[string]func(){
			"n":        func() { o.n = 300 },
			"sessions": func() { o.sessions = 10 },
			"class-n":  func() { o.classN = 30 },
			"max-size": func() { o.maxSize = 64 << 10 },
			"timeout":  func() { o.timeout = 3 * time.Minute },
		} {
			if !set[name] {
				apply()
			}
		}
	}
	o.seed = *seed
	if !slices.Contains(attachKinds, o.attach) {
		return o, fmt.Errorf("-attach: want one of %s", strings.Join(attachKinds, ", "))
	}
	parts := strings.Split(*mix, ",")
	if len(parts) != int(numClasses) {
		return o, errors.New("-mix: want three percentages plain,encrypt,hold")
	}
	total := 0.0
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 {
			return o, fmt.Errorf("-mix: bad percentage %q", p)
		}
		o.mix[i] = v
		total += v
	}
	if total <= 0 {
		return o, errors.New("-mix: percentages sum to zero")
	}
	for i := range o.mix {
		o.mix[i] /= total
	}
	switch {
	case o.n < 1 || o.sessions < 1:
		return o, errors.New("-n and -sessions must be positive")
	case o.rounds < 1 || o.rounds > 100:
		return o, errors.New("-rounds: want 1 to 100")
	case o.classN < 0 || o.warmup < 0:
		return o, errors.New("-class-n and -warmup must not be negative")
	case o.minSize < 1024 || o.maxSize < o.minSize:
		return o, errors.New("sizes: want 1KB <= -min-size <= -max-size")
	case o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0):
		return o, errors.New("-rate: want a finite number of messages per second, 0 for as fast as the sessions go")
	case o.postfix != "auto" && o.postfix != "on" && o.postfix != "off":
		return o, errors.New("-postfix: auto, on or off")
	}
	return o, nil
}

// parseSize reads 5KB, 10MB, 512 (bytes); K/M are binary.
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for suf, m := range map[string]int64{"KB": 1 << 10, "K": 1 << 10, "MB": 1 << 20, "M": 1 << 20} {
		if strings.HasSuffix(u, suf) {
			u, mult = strings.TrimSuffix(u, suf), m
			break
		}
	}
	v, err := strconv.ParseInt(u, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func findSendguard(bin string) (string, error) {
	if bin != "" {
		return filepath.Abs(bin)
	}
	if _, err := os.Stat("bin/sendguard"); err == nil {
		return filepath.Abs("bin/sendguard")
	}
	if p, err := exec.LookPath("sendguard"); err == nil {
		return p, nil
	}
	return "", errors.New("no sendguard binary: build one (go build -o bin/sendguard ./cmd/sendguard; go build -o bin/sendguard-extract ./cmd/sendguard-extract) or pass -sendguard")
}

// run generates the corpus, measures the gateway and Postfix, and returns
// the report; an error means messages were lost or something failed to
// start (the report so far is still returned).
func run(ctx context.Context, o options, logw io.Writer) (*report, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(logw, "sendguard-bench: "+format+"\n", a...) }
	dir := o.workDir
	if dir == "" {
		d, err := os.MkdirTemp("", "sendguard-bench-")
		if err != nil {
			return nil, err
		}
		dir = d
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	}
	corpusDir := filepath.Join(dir, "corpus")
	if err := os.MkdirAll(corpusDir, 0o700); err != nil {
		return nil, err
	}
	t0 := time.Now()
	items, err := genCorpus(corpusDir, corpusSpec{n: o.n, seed: o.seed, minSize: o.minSize, maxSize: o.maxSize, mix: o.mix, attach: o.attach})
	if err != nil {
		return nil, fmt.Errorf("generate corpus: %w", err)
	}
	rep := &report{opts: o, load: loadAvg()}
	for _, it := range items {
		rep.classCount[it.class]++
		rep.bytes += it.size
	}
	if err := syncCorpus(items); err != nil {
		return nil, err
	}
	logf("corpus: %d messages, %.1f MB, generated and written to disk in %s", len(items), float64(rep.bytes)/1e6, time.Since(t0).Round(time.Millisecond))

	sk, err := startSink(o.sinkAddr)
	if err != nil {
		return nil, err
	}
	defer sk.close()

	addr, pid := o.gatewayAddr, o.gatewayPID
	if addr == "" {
		bin, err := findSendguard(o.bin)
		if err != nil {
			return nil, err
		}
		gdir := filepath.Join(dir, "gateway")
		if err := os.MkdirAll(gdir, 0o700); err != nil {
			return nil, err
		}
		if w := filepath.Join(filepath.Dir(bin), "sendguard-extract"); fileExists(w) {
			logf("PDF extraction worker: %s", w)
		} else {
			logf("PDF extraction worker: none beside the gateway (build %s), workers re-execute the gateway", w)
		}
		g, err := startGateway(bin, gdir, sk.addr)
		if err != nil {
			return nil, err
		}
		defer g.stop()
		addr, pid = g.smtp, g.pid()
		logf("sendguard %s started (pid %d), next hop %s", addr, pid, sk.addr)
	}

	var lost error
	// A round's phases send the corpus under their own Message-IDs (sg,
	// pf; sg2, pf2 ... from the second round), so no delivery of one
	// round counts for another.
	var cur round
	var pf *postfixrun.Instance
	defer func() {
		if pf != nil {
			pf.Stop()
		}
	}()
	sgPhase := func(r int) error {
		if r == 1 {
			if err := warmUp(ctx, o, "wsg", addr, items, sk, true, logf); err != nil {
				return err
			}
		}
		var err error
		cur.sendguard, err = measure(ctx, o, "sg"+roundSuffix(r), addr, pid, items, sk, true)
		if err != nil && lost == nil {
			lost = err
		}
		logf("sendguard mixed phase done%s: %s", roundNote(o, r), cur.sendguard.summary())
		if pid > 0 {
			rep.rss = peakRSS(pid)
		}
		return nil
	}
	pfPhase := func(r int) error {
		switch why := postfixMissing(); {
		case o.postfix == "off":
			rep.postfixSkipped = "-postfix=off"
		case why != "" && o.postfix == "auto":
			rep.postfixSkipped = why
			if r == 1 {
				logf("Postfix comparison skipped: %s", why)
			}
		case why != "":
			return errors.New(why)
		default:
			// One Postfix for every round, as one gateway.
			var err error
			if pf == nil {
				if pf, err = startPostfix(sk.addr); err != nil {
					return err
				}
			}
			if r == 1 {
				if err := warmUp(ctx, o, "wpf", pf.SMTPD, items, sk, false, logf); err != nil {
					return err
				}
			}
			cur.postfix, err = measure(ctx, o, "pf"+roundSuffix(r), pf.SMTPD, 0, items, sk, false)
			if err != nil && lost == nil {
				lost = fmt.Errorf("postfix: %w", err)
			}
			logf("postfix mixed phase done%s: %s", roundNote(o, r), cur.postfix.summary())
		}
		return nil
	}
	// Each relay's phase can leave the machine busy for the next (write
	// back, freed files): -postfix-first swaps the order to check, and
	// every second round swaps it again.
	for r := 1; r <= o.rounds; r++ {
		cur = round{postfixFirst: o.postfixFirst != (r%2 == 0)}
		phases := []func(int) error{sgPhase, pfPhase}
		if cur.postfixFirst {
			phases[0], phases[1] = pfPhase, sgPhase
		}
		var err error
		for _, ph := range phases {
			if err = ph(r); err != nil {
				break
			}
		}
		if cur.sendguard != nil {
			rep.rounds = append(rep.rounds, cur)
		}
		if len(rep.rounds) > 0 {
			med := rep.rounds[medianRound(rep.rounds)]
			rep.sendguard, rep.postfix = med.sendguard, med.postfix
		}
		if err != nil {
			return rep, err
		}
	}

	if pid > 0 && o.classN > 0 {
		for c := range numClasses {
			var sub []item
			for _, it := range items {
				if it.class == c && len(sub) < o.classN {
					sub = append(sub, it)
				}
			}
			if len(sub) == 0 {
				continue
			}
			ph, err := measure(ctx, o, "cls-"+c.String(), addr, pid, sub, sk, true)
			if err != nil && lost == nil {
				lost = err
			}
			rep.classCPU[c], rep.classChildCPU[c], rep.classMsgs[c] = ph.cpu, ph.childCPU, len(sub)
			logf("class %s: %d messages, %.2f ms CPU each (%.2f ms in extraction workers)", c, len(sub),
				1000*ph.cpu/float64(len(sub)), 1000*ph.childCPU/float64(len(sub)))
		}
		rep.rss = peakRSS(pid)
	}
	return rep, lost
}

// round is one mixed phase of each relay.
type round struct {
	sendguard, postfix *phase
	postfixFirst       bool
}

// ratio is the round's completed msg/s against Postfix's (0 without it).
func (r round) ratio() float64 {
	if r.postfix == nil || r.postfix.rate() == 0 {
		return 0
	}
	return r.sendguard.rate() / r.postfix.rate()
}

// cpuRatio is the machine's CPU per message in the gateway's phase against
// Postfix's (0 when either is unknown).
func (r round) cpuRatio() float64 {
	if r.postfix == nil || r.postfix.machineCPU <= 0 || r.sendguard.machineCPU <= 0 {
		return 0
	}
	return (r.sendguard.machineCPU / float64(r.sendguard.n)) / (r.postfix.machineCPU / float64(r.postfix.n))
}

// medianRound is the index of the round with the median ratio (the lower
// of the middle two for an even count; by the gateway's msg/s when there
// is no Postfix): the report's table shows that round whole.
func medianRound(rs []round) int {
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) float64 {
		if v := rs[i].ratio(); v > 0 {
			return v
		}
		return rs[i].sendguard.rate()
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(key(a), key(b)) })
	return idx[(len(idx)-1)/2]
}

func roundSuffix(r int) string {
	if r == 1 {
		return ""
	}
	return strconv.Itoa(r)
}

func roundNote(o options, r int) string {
	if o.rounds == 1 {
		return ""
	}
	return fmt.Sprintf(" (round %d of %d)", r, o.rounds)
}

// warmUp sends the first -warmup items of the corpus under their own
// Message-IDs and waits for them, so the measured phase starts with the
// relay's caches, heap and database warm, as on a gateway that has been
// running.
func warmUp(ctx context.Context, o options, name, addr string, items []item, sk *sink, policy bool, logf func(string, ...any)) error {
	if o.warmup == 0 {
		return nil
	}
	ph, err := measure(ctx, o, name, addr, 0, items[:min(o.warmup, len(items))], sk, policy)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	logf("%s warm-up done: %s", name, ph.summary())
	return nil
}

// phase is one measured pass of a set of items through one relay.
type phase struct {
	n            int
	send         *sendResult
	expected     int // corpus messages that must reach the sink
	delivered    int // of those, distinct Message-IDs seen
	passwords    int // password mails seen during the phase
	notices      int
	done         time.Time // everything accepted and delivered
	cpu          float64   // gateway CPU seconds over the phase, with its extraction workers (0: unknown)
	childCPU     float64   // of which the extraction workers (waited-for children)
	machineCPU   float64   // busy CPU seconds of the whole machine over the phase (0: unknown)
	toolCPU      float64   // of which this tool: its SMTP client and the sink
	disk         diskIO    // what the machine's disks did over the phase
	lostExamples []string
}

func (p *phase) summary() string {
	return fmt.Sprintf("%d accepted of %d, %d/%d delivered, %d password mails, %d notices, %.1f msg/s",
		p.send.accepted, p.n, p.delivered, p.expected, p.passwords, p.notices, p.rate())
}

// rate is completed messages per second: all accepted and every message
// the relay must deliver seen at the sink.
func (p *phase) rate() float64 {
	d := p.done.Sub(p.send.start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(p.n) / d
}

func (p *phase) acceptRate() float64 {
	d := p.send.end.Sub(p.send.start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(p.send.accepted) / d
}

// measure drives items into addr under the phase name and waits until
// every message that should reach the sink has (a hold is complete when
// accepted). For the gateway (policy set) held messages are not expected
// at the sink and each encrypted one brings a password mail.
func measure(ctx context.Context, o options, name, addr string, pid int, items []item, sk *sink, policy bool) (*phase, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p := &phase{n: len(items)}
	var ids []string
	wantPasswords := 0
	for _, it := range items {
		if !policy || it.class.delivered() {
			ids = append(ids, msgID(name, it.idx))
		}
		if policy && it.class == classEncrypt {
			wantPasswords++
		}
	}
	p.expected = len(ids)
	before := sk.snapshot()
	var cpu0, child0 float64
	if pid > 0 {
		cpu0, child0, _ = cpuTimes(pid)
	}
	m0, mErr := machineCPU()
	d0, dErr := diskStats()
	t0, _, tErr := cpuTimes(os.Getpid())
	p.send = drive(ctx, addr, name, items, o.sessions, arrivals(len(items), o.rate, o.seed), o.link)
	deadline, _ := ctx.Deadline()
	sk.wait(deadline, func() bool {
		return sk.delivered(ids) == len(ids) && sk.snapshot().passwords-before.passwords >= wantPasswords
	})
	// Done when the last reply or the last delivery came, whichever is
	// later (the wake-up above lags the delivery slightly).
	after := sk.snapshot()
	p.done = maxTime(p.send.end, time.Now())
	if after.last.After(p.send.start) && after.last.Before(p.done) {
		p.done = maxTime(after.last, p.send.end)
	}
	p.delivered = sk.delivered(ids)
	p.passwords, p.notices = after.passwords-before.passwords, after.notices-before.notices
	if pid > 0 {
		quiesce(pid, deadline)
		cpu1, child1, err := cpuTimes(pid)
		if err == nil {
			p.cpu = cpu1 + child1 - cpu0 - child0
			p.childCPU = child1 - child0
		}
	}
	if pid == 0 {
		// A relay without a pid (Postfix) may still be removing queue
		// files: let the machine settle as quiesce lets the gateway.
		quiesceMachine(time.Now().Add(min(2*time.Second, time.Until(deadline))))
	}
	if m1, err := machineCPU(); err == nil && mErr == nil {
		p.machineCPU = m1 - m0
	}
	if d1, err := diskStats(); err == nil && dErr == nil {
		p.disk = d1.sub(d0)
	}
	if t1, _, err := cpuTimes(os.Getpid()); err == nil && tErr == nil {
		p.toolCPU = t1 - t0
	}
	var problems []string
	if n := len(p.send.failed); n > 0 {
		problems = append(problems, fmt.Sprintf("%d not accepted (first: %s)", n, p.send.failed[0]))
	}
	if p.delivered < p.expected {
		for _, id := range ids {
			if sk.delivered([]string{id}) == 0 {
				p.lostExamples = append(p.lostExamples, id)
				if len(p.lostExamples) == 5 {
					break
				}
			}
		}
		problems = append(problems, fmt.Sprintf("%d of %d not delivered within %s (e.g. %s)", p.expected-p.delivered, p.expected, o.timeout, strings.Join(p.lostExamples, ", ")))
	}
	if p.passwords < wantPasswords {
		problems = append(problems, fmt.Sprintf("%d password mails for %d encrypted messages", p.passwords, wantPasswords))
	}
	if len(problems) > 0 {
		return p, fmt.Errorf("phase %s: %s", name, strings.Join(problems, "; "))
	}
	return p, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// quiesce waits until the process uses under 2 % of a core over 250 ms
// (retries, notices and fsyncs finished) or the deadline passes.
func quiesce(pid int, deadline time.Time) {
	settle(func() (float64, error) { return cpuSeconds(pid) }, 0.02, deadline)
}

// quiesceMachine waits until the machine's cores are under 5 % of one core
// busy over 250 ms or the deadline passes.
func quiesceMachine(deadline time.Time) { settle(machineCPU, 0.05, deadline) }

// settle polls a CPU-seconds counter every 250 ms until it grows by less
// than share of a core in one interval, or the deadline passes.
func settle(cpu func() (float64, error), share float64, deadline time.Time) {
	const interval = 250 * time.Millisecond
	prev, err := cpu()
	if err != nil {
		return
	}
	for time.Now().Before(deadline) {
		time.Sleep(interval)
		cur, err := cpu()
		if err != nil || cur-prev < share*interval.Seconds() {
			return
		}
		prev = cur
	}
}

// loadAvg is the 1-minute load average at the start, for the report's
// caveat: the figures are only comparable within one run.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// syncCorpus makes the corpus durable before anything is measured. Left
// dirty, its hundreds of megabytes were written back by the kernel's
// flusher half a minute later (dirty_expire_centisecs), in bursts every
// 5 s, inside the first measured phase: each burst held that relay's
// fsyncs, and so its acceptances, for 100-180 ms.
func syncCorpus(items []item) error {
	for _, it := range items {
		f, err := os.Open(it.path)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("sync corpus: %w", err)
		}
	}
	return nil
}
