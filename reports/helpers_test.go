package reports

import (
	"encoding/json"
	"testing"

	"github.com/sendguard/sendguard/rules/policy"
)

func mustPolicy(t testing.TB, y string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
