package disposition

import "github.com/sendguard/sendguard/rules/profile"

// SetProfiles puts a new profile table in force (a configuration reload):
// mail split from now on follows it; a mail being split keeps the table it
// started with, since groups reads the table once.
func (w *Rewriter) SetProfiles(t *profile.Table) {
	if t == nil {
		t = &profile.Table{}
	}
	w.live.Store(t)
}

// profiles is the table in force: the last one set, else Profiles.
func (w *Rewriter) profiles() *profile.Table {
	if t := w.live.Load(); t != nil {
		return t
	}
	return w.Profiles
}
