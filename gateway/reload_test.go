package gateway_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// TestInspectorSwapUnderLoad swaps the inspection unit while messages
// arrive: each message is decided wholly by one unit (its stored
// decision and its state agree), and a message sent after the last swap
// gets the unit in force.
func TestInspectorSwapUnderLoad(t *testing.T) {
	t.Parallel()
	p := openPipe(t, t.TempDir(), pipePolicy("hold_review"), &recorder{}, nil)
	defer p.close()
	holding := p.insp
	ppath := filepath.Join(t.TempDir(), "pass.yaml")
	os.WriteFile(ppath, []byte("version: 1\nrules:\n  - name: pass\n    when: \"true\"\n    actions: [deliver]\n"), 0o600)
	pol, err := policy.Load(ppath)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := inspect.New(inspect.Config{InternalDomains: []string{"example.com"}, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	passing := *holding
	passing.Rules = rules

	var stop atomic.Bool
	swapped := make(chan struct{})
	go func() {
		defer close(swapped)
		for i := 0; !stop.Load(); i++ {
			if i%2 == 0 {
				p.intake.SetInspector(&passing)
			} else {
				p.intake.SetInspector(holding)
			}
			runtime.Gosched()
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				p.send(fmt.Sprintf("swap-%d-%d", g, i))
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	<-swapped
	p.intake.SetInspector(holding)
	last := p.send("after-last-swap")

	n := 0
	p.store.ForEach(func(r *spool.Record) bool {
		if r.Kind != spool.KindMail {
			return true
		}
		n++
		var d struct{ Rules []string }
		json.Unmarshal(r.Decision, &d)
		held := r.State == spool.StateHeld
		switch {
		case len(d.Rules) != 1:
			t.Errorf("%s: rules %v", r.Subject, d.Rules)
		case held != (d.Rules[0] == "guarded"):
			t.Errorf("%s: state %s with rules %v: decided by two units", r.Subject, r.State, d.Rules)
		}
		if r.ID == last && !held {
			t.Errorf("the message after the last swap was not held by the unit in force")
		}
		return true
	})
	if n != 33 {
		t.Fatalf("%d messages spooled, want 33", n)
	}
}
