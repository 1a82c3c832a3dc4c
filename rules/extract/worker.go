package extract

import (
	"fmt"
	"io"
)

// serveWorker is the child side of the sandbox: confine, read the file,
// run the parser of mode, answer. It returns the process exit code.
func serveWorker(mode, spec string, in io.Reader, out io.Writer) int {
	b, err := parseBudget(spec)
	if err != nil {
		return exitBadRequest
	}
	var work func([]byte, budget) answer
	switch mode {
	case "pdf":
		work = pdfWork
	default:
		return exitBadRequest
	}
	if err := confine(b); err != nil {
		return exitBadRequest
	}
	data, err := io.ReadAll(io.LimitReader(in, b.maxIn+1))
	if err != nil || int64(len(data)) > b.maxIn {
		return exitBadRequest
	}
	a := func() (a answer) {
		defer func() {
			if r := recover(); r != nil {
				a = answer{status: statusError, payload: []byte(shortErr(fmt.Errorf("reader panic: %v", r)))}
			}
		}()
		return work(data, b)
	}()
	if err := writeAnswer(out, a); err != nil {
		return exitBadRequest
	}
	return 0
}
