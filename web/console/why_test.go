package console

import (
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// The message view tells a reviewer why each finding was made, without
// the value.
func TestMessageShowsWhy(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vera", RoleViewer)
	id := e.seed(msg{subject: "支払調書", findings: []rules.Finding{{Detector: "mynumber", Count: 3, Location: "attachment:支払調書.docx",
		Samples: []string{"2922********"}, Why: []string{"check digit ok; column header 「個人番号」"}, Confidence: "high"}}})
	c := e.client()
	c.login("vera")
	r := c.get("/console/msg/" + id)
	for _, want := range []string{"column header 「個人番号」", "check digit ok", "high confidence"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("message page lacks %q", want)
		}
	}
}
