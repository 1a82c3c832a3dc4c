package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The package is built once per test run (building is slow) and shared.
var epoch = time.Unix(1767225600, 0).UTC() // 2026-01-01

func requireDpkg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dpkg-deb not found: CI runs on Debian")
		}
		t.Skip("dpkg-deb not found (not a Debian system)")
	}
}

func buildDeb(t *testing.T, dir string) string {
	t.Helper()
	path, err := build(options{Version: "1.2.3", Arch: "amd64", OutDir: dir, MTime: epoch})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDebIsReproducible builds the package twice and compares the bytes,
// then checks what is inside: paths, modes, owners, one fixed mtime, the
// conffile and a config that `sendguard config check` accepts.
func TestDebIsReproducible(t *testing.T) {
	requireDpkg(t)
	a := buildDeb(t, t.TempDir())
	b := buildDeb(t, t.TempDir())
	ha, _ := fileSHA256(a)
	hb, _ := fileSHA256(b)
	t.Logf("sha256 %s (%s)", ha, filepath.Base(a))
	if ha != hb {
		t.Fatalf("two builds differ: %s vs %s", ha, hb)
	}

	fields, err := exec.Command("dpkg-deb", "-f", a, "Package", "Version", "Architecture").Output()
	if err != nil || string(fields) != "Package: sendguard\nVersion: 1.2.3\nArchitecture: amd64\n" {
		t.Fatalf("control fields: %v\n%s", err, fields)
	}
	tarData, err := exec.Command("dpkg-deb", "--fsys-tarfile", a).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"./usr/bin/sendguard":                        0o755,
		"./usr/bin/sendguard-extract":                0o755,
		"./usr/lib/systemd/system/sendguard.service": 0o644,
		"./etc/sendguard/sendguard.yaml":             0o640,
		"./etc/sendguard/":                           0o750,
	}
	tr := tar.NewReader(bytes.NewReader(tarData))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v, want SOURCE_DATE_EPOCH %v", h.Name, h.ModTime, epoch)
		}
		if h.Uname != "root" || h.Gname != "root" {
			t.Errorf("%s: owned by %s:%s", h.Name, h.Uname, h.Gname)
		}
		if m, ok := want[h.Name]; ok {
			if h.Mode&0o7777 != m {
				t.Errorf("%s: mode %o, want %o", h.Name, h.Mode&0o7777, m)
			}
			delete(want, h.Name)
		}
	}
	for name := range want {
		t.Errorf("%s missing from the package", name)
	}
	ctl := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-e", a, ctl).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v\n%s", err, out)
	}
	if c, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); strings.TrimSpace(string(c)) != "/etc/sendguard/sendguard.yaml" {
		t.Errorf("conffiles = %q", c)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if fi, err := os.Stat(filepath.Join(ctl, s)); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("maintainer script %s: %v", s, err)
		}
		if out, err := exec.Command("sh", "-n", filepath.Join(ctl, s)).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
	}

	// The packaged binary accepts the packaged config and knows its version.
	root := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", a, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	bin := filepath.Join(root, "usr/bin/sendguard")
	if out, err := exec.Command(bin, "config", "check", filepath.Join(root, "etc/sendguard/sendguard.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("packaged config fails config check: %v\n%s", err, out)
	}
	if out, _ := exec.Command(bin, "version").Output(); strings.TrimSpace(string(out)) != "sendguard 1.2.3" {
		t.Errorf("version = %q", out)
	}
	// The PDF extraction worker beside it answers a request (the gateway
	// finds it there) and refuses to run by hand.
	worker := filepath.Join(root, "usr/bin/sendguard-extract")
	req := exec.Command(worker)
	req.Env = []string{"SENDGUARD_EXTRACT_WORKER=pdf",
		"SENDGUARD_EXTRACT_BUDGET=cpu=5,mem=268435456,in=100,text=1000,ratio=100,inflated=1000000"}
	req.Stdin = strings.NewReader("not a pdf")
	if out, err := req.Output(); err != nil || !bytes.HasPrefix(out, []byte("SGX1E")) {
		t.Errorf("packaged worker: %v, answer %q", err, out)
	}
	if err := exec.Command(worker).Run(); err == nil {
		t.Error("sendguard-extract ran without a request")
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		// verify checks the unit's syntax offline; it only needs the
		// binary at its path, which it cannot have before installing.
		out, _ := exec.Command(sa, "verify", filepath.Join(root, "usr/lib/systemd/system/sendguard.service")).CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" && !strings.Contains(line, "/usr/bin/sendguard is not executable") {
				t.Errorf("systemd-analyze verify: %s", line)
			}
		}
		// The hardening, scored by systemd itself (0 best, 10 worst).
		unit := filepath.Join(root, "usr/lib/systemd/system/sendguard.service")
		out, err = exec.Command(sa, "security", "--offline=true", "--threshold=20", unit).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security: exposure above 2.0 (%v)\n%s", err, out)
		} else if i := bytes.Index(out, []byte("Overall exposure level")); i >= 0 {
			t.Logf("%s", bytes.TrimSpace(out[i:]))
		}
	}
}

// TestInstallDeb installs the package into this machine, so it only runs
// as root under CI or with SENDGUARD_PKG_TEST=1: dpkg -i, start the binary
// as the packaged user with the packaged config (directly, not through
// systemd), EHLO on its loopback port, stop it, dpkg --purge, and check
// nothing is left behind.
func TestInstallDeb(t *testing.T) {
	if os.Getenv("CI") == "" && os.Getenv("SENDGUARD_PKG_TEST") != "1" {
		t.Skip("installs into this machine: runs under CI or with SENDGUARD_PKG_TEST=1")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the install test needs root")
	}
	requireDpkg(t)
	if exec.Command("dpkg", "-s", "sendguard").Run() == nil {
		t.Fatal("a sendguard package is already installed here; not touching it")
	}
	for _, addr := range []string{"127.0.0.1:2525", "127.0.0.1:8025"} {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			t.Fatalf("%s is in use; the packaged config listens there", addr)
		}
	}
	deb := buildDeb(t, t.TempDir())
	purged := false
	purge := func() {
		if purged {
			return
		}
		purged = true
		if out, err := exec.Command("dpkg", "--purge", "sendguard").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge: %v\n%s", err, out)
		}
	}
	if out, err := exec.Command("dpkg", "-i", deb).CombinedOutput(); err != nil {
		exec.Command("dpkg", "--purge", "sendguard").Run()
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	t.Cleanup(purge)

	u, err := user.Lookup("sendguard")
	if err != nil {
		t.Fatalf("postinst made no sendguard user: %v", err)
	}
	if u.HomeDir != "/var/lib/sendguard" {
		t.Errorf("home %s", u.HomeDir)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	fi, err := os.Stat("/var/lib/sendguard")
	if err != nil || fi.Mode().Perm() != 0o700 || int(fi.Sys().(*syscall.Stat_t).Uid) != uid {
		t.Fatalf("data dir: %v %v", err, fi)
	}
	if fi, err := os.Stat("/etc/sendguard/sendguard.yaml"); err != nil || fi.Mode().Perm() != 0o640 || int(fi.Sys().(*syscall.Stat_t).Gid) != gid {
		t.Fatalf("config file: %v %v", err, fi)
	}

	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, _ := os.Create(logPath)
	defer logf.Close()
	cmd := exec.Command("/usr/bin/sendguard", "serve", "-config", "/etc/sendguard/sendguard.yaml")
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-done
		}
	}()
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	var c *smtp.Client
	deadline := time.Now().Add(20 * time.Second)
	for c == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the packaged sendguard did not answer on 127.0.0.1:2525\n%s", logs())
		}
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("sendguard exited: %v\n%s", err, logs())
		default:
		}
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:2525", time.Second); err == nil {
			if c, err = smtp.NewClient(conn, "127.0.0.1"); err != nil {
				conn.Close()
				c = nil
			}
		}
		if c == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := c.Hello("pkgtest.example.com"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	if ok, _ := c.Extension("8BITMIME"); !ok {
		t.Error("EHLO reply lacks 8BITMIME")
	}
	c.Quit()
	if !strings.Contains(logs(), "/usr/bin/sendguard-extract") {
		t.Errorf("serve does not log the packaged PDF extraction worker:\n%s", logs())
	}
	if got := procUID(t, cmd.Process.Pid); got != uid {
		t.Errorf("serve runs as uid %d, want sendguard (%d)", got, uid)
	}
	// It wrote its state as the packaged user, inside the data dir.
	entries, _ := os.ReadDir("/var/lib/sendguard")
	if len(entries) == 0 {
		t.Error("nothing written to /var/lib/sendguard")
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && int(info.Sys().(*syscall.Stat_t).Uid) != uid {
			t.Errorf("/var/lib/sendguard/%s not owned by sendguard", e.Name())
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("sendguard exit after SIGTERM: %v\n%s", err, logs())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("no exit within 40s of SIGTERM")
	}

	purge()
	if _, err := user.Lookup("sendguard"); err == nil {
		t.Error("purge left the sendguard user")
	}
	if _, err := user.LookupGroup("sendguard"); err == nil {
		t.Error("purge left the sendguard group")
	}
	for _, p := range []string{"/var/lib/sendguard", "/etc/sendguard", "/usr/bin/sendguard", "/usr/bin/sendguard-extract", "/usr/lib/systemd/system/sendguard.service"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("purge left %s", p)
		}
	}
}

func procUID(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	t.Fatal("no Uid in /proc status")
	return -1
}
