//go:build race

package rewrite

// raceEnabled shrinks the large-message test: the race detector slows
// deflate and AES about 30-fold and inflates allocations.
const raceEnabled = true
