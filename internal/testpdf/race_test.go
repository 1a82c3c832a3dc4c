//go:build race

package testpdf

func init() { raceEnabled = true }
