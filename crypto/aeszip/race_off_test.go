//go:build !race

package aeszip_test

const raceEnabled = false
