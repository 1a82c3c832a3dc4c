package worker

import (
	"errors"
	"io"
)

// hugeInput is the smallest input read into huge pages (Linux).
const hugeInput = 256 << 10

// errInputTooLarge is input over the budget's MaxIn.
var errInputTooLarge = errors.New("input over its budget")

// readInput reads the whole file from in into one buffer of MaxIn+1 bytes
// (the parent sends the file's exact size as MaxIn), so each byte is
// written once into memory it touches once. io.ReadAll grows a list of
// chunks and copies them into a final slice: twice the file in fresh
// memory, which in a process that lives for one file is all page faults,
// and on a virtual machine a page fault costs more than the parse of a
// large file's bytes (see inputBuffer).
func readInput(in io.Reader, maxIn int64) ([]byte, error) {
	buf := inputBuffer(maxIn + 1)
	n, err := io.ReadFull(in, buf)
	switch {
	case err == nil:
		return nil, errInputTooLarge
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return buf[:n:n], nil
	}
	return nil, err
}
