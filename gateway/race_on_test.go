//go:build race

package gateway_test

// raceEnabled: the race detector slows the fsync-heavy pipeline matrix
// about tenfold, so it runs one hold kind (the steps after a decision do
// not depend on the kind); the full matrix runs without -race.
const raceEnabled = true
