// Package corpus scores the detectors on the labelled corpus of Japanese
// business mail in testdata/detect/corpus (written by
// `go run ./testdata/detect/gen`): per detector, case-level precision and
// recall of the whole inspection (extraction, detectors, locations) against
// labels.json, and the number of hard negatives reported as a My Number or
// a card. The test fails below the goals; `-score-out FILE` writes the
// run as JSON. The package has no code of its own.
package corpus
