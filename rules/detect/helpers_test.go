package detect

import (
	"slices"
	"testing"
)

func newTestEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	cfg.RetainValues = true
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// valuesOf returns the sorted normalised values detector found in text.
func valuesOf(e *Engine, text string, tabular bool, detector string) []string {
	h, ok := e.Scan([]byte(text), tabular).Hit(detector)
	if !ok {
		return nil
	}
	v := slices.Clone(h.Values)
	slices.Sort(v)
	return v
}

type detCase struct {
	name string
	text string
	want []string // nil: the detector must not fire
}

func runDetCases(t *testing.T, detector string, cases []detCase) {
	t.Helper()
	e := newTestEngine(t, Config{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := valuesOf(e, c.text, false, detector)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s in %q: got %q, want %q", detector, c.text, got, want)
			}
		})
	}
}
