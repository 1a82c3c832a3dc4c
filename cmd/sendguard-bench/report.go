package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

type report struct {
	opts           options
	load           string
	classCount     [numClasses]int
	bytes          int64
	sendguard      *phase // of the median round
	postfix        *phase
	rounds         []round
	postfixSkipped string
	rss            int64
	classCPU       [numClasses]float64 // with the extraction workers
	classChildCPU  [numClasses]float64 // the extraction workers alone
	classMsgs      [numClasses]int
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// print writes the report as a Markdown table (the README shows one).
func (r *report) print(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "corpus: %d messages (%d plain, %d encrypt, %d hold), %.1f MB, %s-%s, %s attachments, seed %d; %d sessions; load average at start %s (shared machine: compare ratios, not absolute figures)\n\n",
		o.n, r.classCount[classPlain], r.classCount[classEncrypt], r.classCount[classHold], float64(r.bytes)/1e6,
		sizeString(o.minSize), sizeString(o.maxSize), cmp.Or(o.attach, "mixed"), o.seed, o.sessions, r.load)
	if o.rate > 0 {
		fmt.Fprintf(w, "offered load: %.1f msg/s (Poisson arrivals); the latency below is at that load, not at saturation\n\n", o.rate)
	}
	if o.link > 0 {
		fmt.Fprintf(w, "link: each session sends at %.0f Mbit/s, as over a real network\n\n", o.link*8/1e6)
	}
	if r.sendguard == nil {
		return
	}
	sg, pf := r.sendguard, r.postfix
	if len(r.rounds) > 1 {
		r.printRounds(w)
	}
	fmt.Fprintln(w, "| mixed corpus | sendguard | Postfix relay | sendguard / Postfix |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	row := func(name string, a, b float64, format string, better string) {
		pb, rb := "-", "-"
		if pf != nil {
			pb, rb = fmt.Sprintf(format, b), ratio(a, b)
		}
		fmt.Fprintf(w, "| %s | "+format+" | %s | %s%s |\n", name, a, pb, rb, better)
	}
	var pfRate, pfAcc float64
	var pfP50, pfP99 time.Duration
	if pf != nil {
		pfRate, pfAcc = pf.rate(), pf.acceptRate()
		pfP50, pfP99 = quantile(pf.send.latencies, 0.5), quantile(pf.send.latencies, 0.99)
	}
	row("completed msg/s (accepted, and delivered unless held)", sg.rate(), pfRate, "%.1f", "")
	row("accepted msg/s", sg.acceptRate(), pfAcc, "%.1f", "")
	sp50, sp99 := quantile(sg.send.latencies, 0.5), quantile(sg.send.latencies, 0.99)
	latRow := func(name string, a, b time.Duration) {
		pb, rb := "-", "-"
		if pf != nil {
			pb, rb = ms(b), ratio(float64(a), float64(b))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, ms(a), pb, rb)
	}
	latRow("accept latency p50 (ms, end of DATA to reply)", sp50, pfP50)
	latRow("accept latency p99 (ms)", sp99, pfP99)
	// Which messages make the tail: the same quantiles by class and what
	// the message carries.
	kinds := slices.Sorted(maps.Keys(sg.send.byKind))
	for _, k := range kinds {
		d := sg.send.byKind[k]
		var pd []time.Duration
		if pf != nil {
			pd = pf.send.byKind[k]
		}
		latRow(fmt.Sprintf("accept latency p50 (ms), %s: %d messages", k, len(d)), quantile(d, 0.5), quantile(pd, 0.5))
		latRow(fmt.Sprintf("accept latency p99 (ms), %s", k), quantile(d, 0.99), quantile(pd, 0.99))
	}
	for i, b := range sizeBuckets {
		d := sg.send.bySize[i]
		if len(d) == 0 {
			continue
		}
		var pd []time.Duration
		if pf != nil {
			pd = pf.send.bySize[i]
		}
		latRow(fmt.Sprintf("accept latency p50 (ms), messages %s: %d", b.name, len(d)), quantile(d, 0.5), quantile(pd, 0.5))
		latRow(fmt.Sprintf("accept latency p99 (ms), messages %s", b.name), quantile(d, 0.99), quantile(pd, 0.99))
	}
	if o.rate > 0 {
		// A relay that cannot keep up with the offered load makes messages
		// wait for a session: its accept latency alone would hide that.
		pl, plp := "-", "-"
		if pf != nil {
			pl, plp = fmt.Sprint(pf.send.late), ms(pf.send.lateP99)
		}
		fmt.Fprintf(w, "| messages that found every session busy | %d | %s | |\n", sg.send.late, pl)
		fmt.Fprintf(w, "| of those, p99 of how late they started (ms) | %s | %s | |\n", ms(sg.send.lateP99), plp)
	}
	pfDeliv := "-"
	if pf != nil {
		pfDeliv = fmt.Sprintf("%d/%d", pf.delivered, pf.expected)
	}
	fmt.Fprintf(w, "| delivered by Message-ID (held mail stays held) | %d/%d | %s | |\n", sg.delivered, sg.expected, pfDeliv)
	fmt.Fprintf(w, "| password mails / other notices | %d / %d | - | |\n", sg.passwords, sg.notices)
	if sg.cpu > 0 {
		fmt.Fprintf(w, "| gateway CPU per message, mixed (ms, with extraction workers) | %.2f | - | |\n", 1000*sg.cpu/float64(sg.n))
		fmt.Fprintf(w, "| of which extraction workers (ms per message) | %.2f | - | |\n", 1000*sg.childCPU/float64(sg.n))
	}
	if sg.machineCPU > 0 {
		// The relay's share of the machine: everything busy but this tool.
		// For Postfix it sums its processes; for both it includes kernel
		// threads (writeback, the journal) that no process is charged for.
		per := func(p *phase, v float64) float64 { return 1000 * v / float64(p.n) }
		var pm, pt float64
		if pf != nil {
			pm, pt = per(pf, pf.machineCPU), per(pf, pf.toolCPU)
		}
		row("machine CPU per message (ms, every core busy, other jobs included)", per(sg, sg.machineCPU), pm, "%.2f", "")
		row("of which this tool's SMTP client and sink (ms)", per(sg, sg.toolCPU), pt, "%.2f", "")
		row("the rest: relay, kernel threads, other jobs (ms)", per(sg, sg.machineCPU-sg.toolCPU), pm-pt, "%.2f", "")
	}
	if sg.disk.written > 0 {
		var pw, pfl float64
		if pf != nil {
			pw, pfl = float64(pf.disk.written)/float64(pf.n)/1e3, float64(pf.disk.flushes)/float64(pf.n)
		}
		row("disk written per message (KB, the whole machine)", float64(sg.disk.written)/float64(sg.n)/1e3, pw, "%.1f", "")
		row("disk cache flushes per message (each fsync ends in one)", float64(sg.disk.flushes)/float64(sg.n), pfl, "%.2f", "")
	}
	for c := range numClasses {
		if n := float64(r.classMsgs[c]); n > 0 {
			fmt.Fprintf(w, "| gateway CPU per %s message (ms, class-only phase of %d; extraction workers) | %.2f (%.2f) | - | |\n",
				c, r.classMsgs[c], 1000*r.classCPU[c]/n, 1000*r.classChildCPU[c]/n)
		}
	}
	if r.rss > 0 {
		fmt.Fprintf(w, "| gateway peak RSS (MB) | %.0f | - | |\n", float64(r.rss)/(1<<20))
	}
	if pf == nil && r.postfixSkipped != "" {
		fmt.Fprintf(w, "\nPostfix comparison skipped: %s\n", r.postfixSkipped)
	}
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return fmt.Sprint(n)
}

// printRounds lists each round's throughput and their median, then says
// which round the full table below is.
func (r *report) printRounds(w io.Writer) {
	fmt.Fprintln(w, "| round | first | sendguard completed msg/s | Postfix completed msg/s | sendguard / Postfix | machine CPU per message, sendguard / Postfix |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|")
	var rates, ratios, cpus []float64
	for i, rd := range r.rounds {
		first := "sendguard"
		if rd.postfixFirst {
			first = "Postfix"
		}
		sgRate := rd.sendguard.rate()
		rates = append(rates, sgRate)
		pfRate, rat, cpu := "-", "-", "-"
		if pf := rd.postfix; pf != nil {
			pfRate = fmt.Sprintf("%.1f", pf.rate())
			rat = fmt.Sprintf("%.2f", rd.ratio())
			ratios = append(ratios, rd.ratio())
			if c := rd.cpuRatio(); c > 0 {
				cpu = fmt.Sprintf("%.2f", c)
				cpus = append(cpus, c)
			}
		}
		fmt.Fprintf(w, "| %d | %s | %.1f | %s | %s | %s |\n", i+1, first, sgRate, pfRate, rat, cpu)
	}
	opt := func(v []float64) string {
		if len(v) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", median(v))
	}
	fmt.Fprintf(w, "| median | | %.1f | | %s | %s |\n\n", median(rates), opt(ratios), opt(cpus))
	fmt.Fprintf(w, "The table below is round %d, the one with the median ratio.\n\n", medianRound(r.rounds)+1)
}

// median of v (the mean of the middle two for an even count).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
