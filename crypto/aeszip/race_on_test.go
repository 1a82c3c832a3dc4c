//go:build race

package aeszip_test

// raceEnabled shrinks the single-goroutine large-entry test under the race
// detector, which slows deflate and the data generator about 30-fold (1 MB/s here).
const raceEnabled = true
