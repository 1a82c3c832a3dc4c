//go:build race

package extract

// raceEnabled: the race detector's shadow memory and slowdown make memory
// budgets and timings meaningless.
const raceEnabled = true
