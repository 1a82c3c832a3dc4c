package policy

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// The README shows how to change unscannable-external; the change it shows
// must compile and do what it says: the sender confirms instead of the
// security team, and image-only PDFs go on to the encrypt rule.
func TestREADMEUnscannableExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(  - name: unscannable-external\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no unscannable-external example")
	}
	example := string(m[1])
	// keep the default rule's reason, take the README's when and actions
	def := string(DefaultYAML())
	start := strings.Index(def, "  - name: unscannable-external\n")
	end := strings.Index(def, "  - name: lookalike\n")
	reason := def[strings.Index(def[start:end], "    reason:")+start : end]
	src := def[:start] + example + reason + def[end:]
	p, err := Parse("readme-example.yaml", []byte(src))
	if err != nil {
		t.Fatalf("README example does not load: %v\n%s", err, src[start:])
	}
	for _, tc := range []struct {
		name    string
		report  *rules.Report
		actions []string
	}{
		{"encrypted zip", synth(external(1, 1), unreadable("s.zip", "encrypted zip", true)), []string{"hold_sender"}},
		{"zip bomb", synth(external(1, 1), unreadable("b.zip", "zip bomb: ratio 1028:1 over 100:1", false)), []string{"hold_sender"}},
		{"scanned pdf", synth(external(1, 1), unreadable("scan.pdf", "PDF has no extractable text", false)), []string{"encrypt"}},
	} {
		if d := p.Evaluate(tc.report); !reflect.DeepEqual(d.Actions, tc.actions) {
			t.Errorf("%s: actions %v, want %v", tc.name, d.Actions, tc.actions)
		}
	}
}
