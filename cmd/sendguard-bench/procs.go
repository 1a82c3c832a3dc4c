package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sendguard/sendguard/internal/postfixrun"
)

// gateway is a sendguard started by the tool: its own data dir and a
// generated config whose next hop is the tool's sink.
type gateway struct {
	dir  string
	smtp string
	cmd  *exec.Cmd
	done chan error
	logf *os.File
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startGateway(bin, dir, nextHop string) (*gateway, error) {
	smtpAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	webAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`data_dir: %s
hostname: gw.example.com
internal_domains: [%s]
smtp:
  listen: %s
  trusted_networks: [127.0.0.0/8]
  max_message_bytes: 104857600
  max_connections_per_ip: 200
web:
  listen: %s
  base_url: http://%s
delivery:
  next_hop: %q
  tls: none
log:
  level: warn
`, filepath.Join(dir, "data"), internalDomain, smtpAddr, webAddr, webAddr, nextHop)
	cfgPath := filepath.Join(dir, "sendguard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "sendguard.log"))
	if err != nil {
		return nil, err
	}
	g := &gateway{dir: dir, smtp: smtpAddr, logf: logf, done: make(chan error, 1)}
	g.cmd = exec.Command(bin, "serve", "-config", cfgPath)
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	if err := g.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { g.done <- g.cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", smtpAddr, 100*time.Millisecond); err == nil {
			c.Close()
			return g, nil
		}
		select {
		case err := <-g.done:
			g.cmd = nil
			return nil, fmt.Errorf("sendguard exited: %v\n%s", err, g.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	g.stop()
	return nil, fmt.Errorf("sendguard did not listen on %s\n%s", smtpAddr, g.logTail())
}

func (g *gateway) pid() int { return g.cmd.Process.Pid }

func (g *gateway) logTail() string {
	b, _ := os.ReadFile(g.logf.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop ends the gateway (SIGTERM, SIGKILL after 30 s) and reaps it.
func (g *gateway) stop() {
	if g.cmd == nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		g.cmd.Process.Kill()
		<-g.done
	}
	g.cmd = nil
	g.logf.Close()
}

// cpuSeconds is the gateway's user+system CPU time from /proc/PID/stat, its
// own (fields 14 and 15) plus that of its children it has waited for
// (fields 16 and 17: the extraction workers, one per PDF, which would
// otherwise go uncounted), in clock ticks (USER_HZ is 100 on Linux).
func cpuSeconds(pid int) (float64, error) {
	own, children, err := cpuTimes(pid)
	return own + children, err
}

// cpuTimes is cpuSeconds split into the process's own time and its
// waited-for children's.
func cpuTimes(pid int) (own, children float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStat(string(b))
}

func parseStat(s string) (own, children float64, err error) {
	// the command name (field 2) may contain spaces: split after ')'
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	var t [4]float64
	for k := range t {
		t[k], _ = strconv.ParseFloat(f[11+k], 64)
	}
	return (t[0] + t[1]) / 100, (t[2] + t[3]) / 100, nil
}

// peakRSS is the process's high-water resident set (VmHWM) in bytes.
func peakRSS(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v << 10
			}
		}
	}
	return 0
}

// postfixMissing says why Postfix cannot run here, or "".
func postfixMissing() string { return postfixrun.Missing() }

// startPostfix runs a private Postfix instance (own config, queue and log,
// loopback only) relaying everything to the sink: the reference the
// gateway is compared with. It needs root.
func startPostfix(relayhost string) (*postfixrun.Instance, error) {
	smtpd, err := freePort()
	if err != nil {
		return nil, err
	}
	return postfixrun.Start(smtpd, relayhost, "bench.test", "message_size_limit = 104857600")
}

// machineCPU is the CPU time every core spent busy since boot, from the
// first line of /proc/stat: user, nice, system, irq and softirq (not idle,
// iowait or steal), in seconds. Across a phase it counts what the relay's
// own processes do not: kernel threads writing back and journaling the
// files it fsyncs, and the softirqs of its sockets.
func machineCPU() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineStat(string(b))
}

func parseMachineStat(s string) (float64, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, errors.New("unexpected /proc/stat format")
	}
	var busy float64
	for _, k := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		v, err := strconv.ParseFloat(f[k], 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc/stat format: %w", err)
		}
		busy += v
	}
	return busy / 100, nil
}

// diskIO is what the machine's disks did since boot: bytes written and
// cache flushes completed (every fsync ends in one), summed over
// /sys/block except loop, RAM and device-mapper devices (those are
// counted by the disks beneath them or hold no files).
type diskIO struct {
	written int64 // bytes
	flushes int64
}

func diskStats() (diskIO, error) {
	ents, err := os.ReadDir("/sys/block")
	if err != nil {
		return diskIO{}, err
	}
	var d diskIO
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") ||
			strings.HasPrefix(name, "dm-") || strings.HasPrefix(name, "md") || strings.HasPrefix(name, "sr") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/sys/block", name, "stat"))
		if err != nil {
			continue
		}
		d = d.add(parseDiskStat(string(b)))
	}
	return d, nil
}

// parseDiskStat reads a /sys/block/DEV/stat line: field 7 is sectors
// written (512 bytes each), field 16 flushes completed (Linux 5.5 on).
func parseDiskStat(s string) diskIO {
	f := strings.Fields(s)
	var d diskIO
	if len(f) >= 7 {
		n, _ := strconv.ParseInt(f[6], 10, 64)
		d.written = n * 512
	}
	if len(f) >= 16 {
		d.flushes, _ = strconv.ParseInt(f[15], 10, 64)
	}
	return d
}

func (d diskIO) add(o diskIO) diskIO { return diskIO{d.written + o.written, d.flushes + o.flushes} }
func (d diskIO) sub(o diskIO) diskIO { return diskIO{d.written - o.written, d.flushes - o.flushes} }
