package console

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// Live notes (the directory's state) are computed at each view, after the
// fixed ones.
func TestPolicyPageLiveNotes(t *testing.T) {
	var n atomic.Int32
	e := newEnv(t, func(c *Config) {
		c.DataNotes = []string{"customer list: 3 records"}
		c.LiveNotes = func() []string { return []string{fmt.Sprintf("directory: DOWN (view %d)", n.Add(1))} }
	})
	e.addUser("vera", RoleViewer)
	c := e.client()
	c.login("vera")
	mustContain(t, c.get("/console/policy").body, "customer list: 3 records", "directory: DOWN (view 1)")
	mustContain(t, c.get("/console/policy").body, "customer list: 3 records", "directory: DOWN (view 2)")
}
