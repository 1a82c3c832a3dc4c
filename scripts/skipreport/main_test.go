package main

import (
	"strings"
	"testing"
)

func TestReportListsSkipsAndPassesFailures(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p/a","Test":"TestPostfix"}`,
		`{"Action":"output","Package":"p/a","Test":"TestPostfix","Output":"=== RUN   TestPostfix\n"}`,
		`{"Action":"output","Package":"p/a","Test":"TestPostfix","Output":"    postfix_test.go:28: postfix not installed\n"}`,
		`{"Action":"output","Package":"p/a","Test":"TestPostfix","Output":"--- SKIP: TestPostfix (0.00s)\n"}`,
		`{"Action":"skip","Package":"p/a","Test":"TestPostfix"}`,
		`{"Action":"output","Package":"p/a","Test":"TestLoad","Output":"    load_test.go:24: set SENDGUARD_LOAD=1\n"}`,
		`{"Action":"skip","Package":"p/a","Test":"TestLoad"}`,
		`{"Action":"output","Package":"p/a","Test":"TestBad","Output":"    x_test.go:3: boom\n"}`,
		`{"Action":"fail","Package":"p/a","Test":"TestBad"}`,
		`{"Action":"output","Package":"p/a","Test":"TestGood","Output":"    y_test.go:3: chatter\n"}`,
		`{"Action":"pass","Package":"p/a","Test":"TestGood"}`,
		`{"Action":"output","Package":"p/a","Output":"FAIL\tp/a\t0.1s\n"}`,
		`# p/b [build failed]`,
	}, "\n")
	var out strings.Builder
	skips, n, err := report(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"boom", "FAIL\tp/a", "# p/b [build failed]"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n.passed != 1 || n.failed != 1 {
		t.Errorf("counts = %+v, want 1 passed, 1 failed", n)
	}
	if strings.Contains(got, "chatter") {
		t.Errorf("a passing test's output was printed:\n%s", got)
	}
	if len(skips) != 2 || skips[0].reason != "postfix not installed" || !skips[0].realPart || skips[1].realPart {
		t.Fatalf("skips = %+v", skips)
	}
	var sum strings.Builder
	if !summary(&sum, skips) {
		t.Fatal("summary did not flag the Postfix skip")
	}
	if !strings.Contains(sum.String(), "!! p/a TestPostfix: postfix not installed") {
		t.Errorf("summary:\n%s", sum.String())
	}
}

func TestSummaryWithoutSkips(t *testing.T) {
	var sum strings.Builder
	if summary(&sum, nil) || !strings.Contains(sum.String(), "none") {
		t.Fatalf("summary: %q", sum.String())
	}
}
