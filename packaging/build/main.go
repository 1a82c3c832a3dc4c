// Command build makes sendguard's Debian package, reproducibly: the same
// source, Go toolchain and SOURCE_DATE_EPOCH give a byte-identical .deb.
//
//	cd packaging && go run ./build [-version V] [-arch amd64] [-out DIR]
//
// It builds the binaries (the gateway and its PDF extraction worker, which
// the gateway looks for in its own directory) with -trimpath and no build
// ID, then packs them with the systemd unit, the default configuration and the maintainer scripts
// of this directory using nfpm as a library. Every file's mtime is
// SOURCE_DATE_EPOCH (default: the last commit's time).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
)

func main() {
	var o options
	flag.StringVar(&o.Version, "version", "", "package version (default: from git)")
	flag.StringVar(&o.Arch, "arch", "amd64", "Debian/Go architecture: amd64 or arm64")
	flag.StringVar(&o.OutDir, "out", "dist", "output directory")
	flag.Parse()
	path, err := build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	sum, err := fileSHA256(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	fmt.Printf("%s  %s\n", sum, path)
}

type options struct {
	Version string
	Arch    string
	OutDir  string
	Root    string    // repository root; default: the parent of this module
	MTime   time.Time // default: SOURCE_DATE_EPOCH, else the last commit
}

// build writes the .deb and returns its path.
func build(o options) (string, error) {
	pkgDir, err := moduleDir()
	if err != nil {
		return "", err
	}
	if o.Root == "" {
		o.Root = filepath.Dir(pkgDir)
	}
	if o.Arch != "amd64" && o.Arch != "arm64" {
		return "", fmt.Errorf("arch %q: want amd64 or arm64", o.Arch)
	}
	if o.MTime.IsZero() {
		if o.MTime, err = sourceDate(o.Root); err != nil {
			return "", err
		}
	}
	if o.Version == "" {
		if o.Version, err = gitVersion(o.Root, o.MTime); err != nil {
			return "", err
		}
	}
	tmp, err := os.MkdirTemp("", "sendguard-pkg")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "sendguard")
	if err := goBuild(o, bin, "./cmd/sendguard"); err != nil {
		return "", err
	}
	worker := filepath.Join(tmp, "sendguard-extract")
	if err := goBuild(o, worker, "./cmd/sendguard-extract"); err != nil {
		return "", err
	}

	file := func(src, dst string, mode os.FileMode, typ string) *files.Content {
		return &files.Content{Source: src, Destination: dst, Type: typ,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode, MTime: o.MTime}}
	}
	info := &nfpm.Info{
		Name:          "sendguard",
		Arch:          o.Arch,
		Platform:      "linux",
		Version:       o.Version,
		VersionSchema: "none",
		Section:       "mail",
		Priority:      "optional",
		Maintainer:    "sendguard developers <sendguard@example.com>",
		Homepage:      "https://github.com/sendguard/sendguard",
		Description: "SMTP outbound gateway that stops mis-sent mail\n" +
			"sendguard sits behind the corporate MTA as its smarthost and checks every\n" +
			"outgoing message (recipients, look-alike domains, personal data and\n" +
			"confidential keywords in bodies and attachments); a policy delivers,\n" +
			"holds for confirmation or review, converts to Bcc, encrypts attachments\n" +
			"or rejects. Mail leaving it can be DKIM-signed.",
		MTime: o.MTime,
		Overridables: nfpm.Overridables{
			Depends: []string{"passwd"},
			Contents: files.Contents{
				file(bin, "/usr/bin/sendguard", 0o755, files.TypeFile),
				file(worker, "/usr/bin/sendguard-extract", 0o755, files.TypeFile),
				file(filepath.Join(pkgDir, "sendguard.service"), "/usr/lib/systemd/system/sendguard.service", 0o644, files.TypeFile),
				file(filepath.Join(pkgDir, "sendguard.yaml"), "/etc/sendguard/sendguard.yaml", 0o640, files.TypeConfigNoReplace),
				file(filepath.Join(o.Root, "README.md"), "/usr/share/doc/sendguard/README.md", 0o644, files.TypeFile),
				{Destination: "/etc/sendguard", Type: files.TypeDir,
					FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o750, MTime: o.MTime}},
			},
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(pkgDir, "scripts", "postinst"),
				PreRemove:   filepath.Join(pkgDir, "scripts", "prerm"),
				PostRemove:  filepath.Join(pkgDir, "scripts", "postrm"),
			},
		},
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.Validate(info); err != nil {
		return "", fmt.Errorf("package definition: %w", err)
	}
	pkgr, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(o.OutDir, fmt.Sprintf("sendguard_%s_%s.deb", o.Version, o.Arch))
	f, err := os.CreateTemp(o.OutDir, ".sendguard-*.deb")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := pkgr.Package(info, f); err != nil {
		f.Close()
		return "", fmt.Errorf("package: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return out, os.Rename(f.Name(), out)
}

// goBuild compiles a static, path-independent binary: no cgo, no build
// ID, no VCS stamp, no local paths.
func goBuild(o options, out, pkg string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X main.version="+o.Version, "-o", out, pkg)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.Arch, "GOFLAGS=-mod=readonly")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// moduleDir is the packaging directory (this module's root).
func moduleDir() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run from the packaging directory (no go.mod found)")
	}
	return filepath.Dir(mod), nil
}

// sourceDate is SOURCE_DATE_EPOCH (reproducible-builds.org), else the
// last commit's time.
func sourceDate(root string) (time.Time, error) {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	b, err := git(root, "log", "-1", "--format=%ct")
	if err != nil {
		return time.Time{}, fmt.Errorf("no SOURCE_DATE_EPOCH and no commit time: %w", err)
	}
	n, err := strconv.ParseInt(b, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(n, 0).UTC(), nil
}

// gitVersion is the tag (v1.2.3 → 1.2.3) at HEAD, else
// 0.0.0~gitYYYYMMDD.HASH, which sorts before any release.
func gitVersion(root string, t time.Time) (string, error) {
	if tag, err := git(root, "describe", "--tags", "--exact-match"); err == nil && strings.HasPrefix(tag, "v") {
		return strings.TrimPrefix(tag, "v"), nil
	}
	hash, err := git(root, "rev-parse", "--short=12", "HEAD")
	if err != nil {
		return "", fmt.Errorf("no -version and no git commit: %w", err)
	}
	return "0.0.0~git" + t.Format("20060102") + "." + hash, nil
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	b, err := cmd.Output()
	return strings.TrimSpace(string(b)), err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
