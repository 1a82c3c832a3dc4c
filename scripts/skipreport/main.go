// Command skipreport reads `go test -json` on stdin, prints what plain
// `go test` would (package results and the output of failing tests), and
// ends with every skipped test and its reason, the tests that need a real
// Postfix, Chromium or 7-Zip first: a green run that skipped them says so.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type skip struct {
	pkg, test, reason string
	realPart          bool
}

// realPart matches the skip reasons of tests that drive an external
// program: their absence hides whole behaviours, not a detail.
var realPart = regexp.MustCompile(`(?i)postfix|smtp-sink|chromium|browser|node|playwright|7zip|7z|bsdtar|needs root`)

// reasonLine is the t.Skip message as go test prints it: "    file_test.go:12: why".
var reasonLine = regexp.MustCompile(`^\s+\S+_test\.go:\d+: (.*)$`)

func main() {
	out := flag.String("summary", "", "write the list of skipped tests to this file instead of stdout")
	flag.Parse()
	skips, n, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipreport:", err)
		os.Exit(2)
	}
	w := io.Writer(os.Stdout)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "skipreport:", err)
			os.Exit(2)
		}
		defer f.Close()
		w = f
	}
	summary(w, skips)
	// The plain closing line CI and people read: every test and subtest.
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", n.passed, n.failed, len(skips))
}

// counts are the tests (and subtests) that passed and failed.
type counts struct{ passed, failed int }

// report copies the test stream to w as plain text and returns the skips
// and the pass and fail counts.
func report(r io.Reader, w io.Writer) ([]skip, counts, error) {
	type key struct{ pkg, test string }
	buf := map[key][]string{}
	var skips []skip
	var n counts
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Build errors and other non-JSON lines pass through.
			fmt.Fprintln(w, string(line))
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "output":
			if e.Test == "" {
				// Package lines: "ok", "FAIL", "?", panics outside tests.
				if !strings.HasPrefix(e.Output, "=== ") && !strings.HasPrefix(e.Output, "PASS\n") {
					fmt.Fprint(w, e.Output)
				}
				continue
			}
			buf[k] = append(buf[k], e.Output)
		case "fail":
			if e.Test != "" {
				n.failed++
				fmt.Fprint(w, strings.Join(buf[k], ""))
			}
			delete(buf, k)
		case "skip":
			if e.Test != "" {
				reason := skipReason(buf[k])
				skips = append(skips, skip{e.Package, e.Test, reason, realPart.MatchString(reason)})
			}
			delete(buf, k)
		case "pass":
			if e.Test != "" {
				n.passed++
			}
			delete(buf, k)
		}
	}
	return skips, n, sc.Err()
}

func skipReason(out []string) string {
	var reasons []string
	for _, l := range out {
		if m := reasonLine.FindStringSubmatch(strings.TrimRight(l, "\n")); m != nil {
			reasons = append(reasons, m[1])
		}
	}
	if len(reasons) == 0 {
		return "no reason given"
	}
	return strings.Join(reasons, "; ")
}

// summary prints the skips and reports whether a real-part test was among them.
func summary(w io.Writer, skips []skip) bool {
	sort.SliceStable(skips, func(i, j int) bool { return skips[i].realPart && !skips[j].realPart })
	fmt.Fprintln(w, "\n== skipped tests")
	if len(skips) == 0 {
		fmt.Fprintln(w, "none")
		return false
	}
	anyReal := false
	for _, s := range skips {
		mark := "   "
		if s.realPart {
			mark, anyReal = "!! ", true
		}
		fmt.Fprintf(w, "%s%s %s: %s\n", mark, strings.TrimPrefix(s.pkg, "github.com/sendguard/sendguard/"), s.test, s.reason)
	}
	if anyReal {
		fmt.Fprintln(w, "!! = a test of a real part (Postfix, Chromium, 7-Zip) did not run: this green run did not cover it.")
	}
	return anyReal
}
