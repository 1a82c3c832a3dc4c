package worker

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseBudgetRoundTrip(t *testing.T) {
	b := Budget{CPU: 1500 * time.Millisecond, Memory: 1 << 30, MaxIn: 5, MaxText: 6, Ratio: 7, Inflated: 8}
	got, err := ParseBudget(b.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b.CPU = 2 * time.Second // whole seconds, rounded up
	if got != b {
		t.Fatalf("got %+v, want %+v", got, b)
	}
	for _, bad := range []string{"", "cpu=1", "cpu=1,mem=1,in=1,text=1,ratio=1,inflated=0",
		"cpu=1,mem=1,in=1,text=1,ratio=1,inflated=1,x=2"} {
		if _, err := ParseBudget(bad); err == nil {
			t.Errorf("ParseBudget(%q) accepted", bad)
		}
	}
}

func TestParseAnswerRejectsMalformed(t *testing.T) {
	var b bytes.Buffer
	if err := WriteAnswer(&b, Answer{Status: StatusText, Truncated: true, Inflated: 1234, Payload: []byte("テキスト")}); err != nil {
		t.Fatal(err)
	}
	a, err := ParseAnswer(b.Bytes(), false)
	if err != nil || a.Status != StatusText || !a.Truncated || a.Inflated != 1234 || string(a.Payload) != "テキスト" {
		t.Fatalf("round trip: %+v, %v", a, err)
	}
	for _, bad := range [][]byte{nil, []byte("SGX1"), append([]byte("SGX1Z\x00"), make([]byte, 8)...),
		append([]byte("XXXXT\x00"), make([]byte, 8)...)} {
		if _, err := ParseAnswer(bad, false); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, err := ParseAnswer(b.Bytes(), true); err == nil {
		t.Error("accepted an answer over its cap")
	}
}

// A request the worker cannot serve is refused before it confines itself
// or reads anything (these run in the test process, so never reach
// confine).
func TestServeRefusesBadRequests(t *testing.T) {
	good := Budget{CPU: time.Second, Memory: 1 << 30, MaxIn: 10, MaxText: 10, Ratio: 10, Inflated: 10}.Encode()
	for _, tc := range []struct{ mode, spec string }{{"docx", good}, {"pdf", ""}, {"pdf", good + ",extra=1"}} {
		var out bytes.Buffer
		if code := Serve(tc.mode, tc.spec, strings.NewReader("%PDF-1.4"), &out); code != ExitBadRequest || out.Len() != 0 {
			t.Errorf("Serve(%q, %q) = %d, %q", tc.mode, tc.spec, code, out.Bytes())
		}
	}
}

func TestPDFCapsTextOnRuneBoundary(t *testing.T) {
	if got, cut := CapText([]byte("日本語"), 7); !cut || string(got) != "日本" {
		t.Fatalf("capText = %q, %v", got, cut)
	}
	if a := PDF([]byte("not a pdf"), Budget{MaxText: 10, Ratio: 10, Inflated: 10}); a.Status != StatusError || len(a.Payload) == 0 {
		t.Fatalf("PDF(garbage) = %+v", a)
	}
}

// TestDependencies keeps the worker program small: what it links is what
// every PDF pays to start. Only the standard library, the PDF reader and
// this package are allowed.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/sendguard/sendguard/cmd/sendguard-extract").Output()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"github.com/dslipak/pdf":                               true,
		"github.com/sendguard/sendguard/rules/extract/worker":  true,
		"github.com/sendguard/sendguard/cmd/sendguard-extract": true,
	}
	for _, p := range strings.Fields(string(out)) {
		if !allowed[p] {
			t.Errorf("sendguard-extract links %s", p)
		}
	}
}
