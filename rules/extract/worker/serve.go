package worker

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Main serves the request of a process started as a worker and returns its
// exit code; ok is false in any other process (Env unset).
func Main() (code int, ok bool) {
	mode, ok := os.LookupEnv(Env)
	if !ok {
		return 0, false
	}
	return Serve(mode, os.Getenv(BudgetEnv), os.Stdin, os.Stdout), true
}

// Serve is the child side of the sandbox: confine, read the file, run the
// parser of mode, answer. It returns the process exit code.
func Serve(mode, spec string, in io.Reader, out io.Writer) int {
	var work func([]byte, Budget) Answer
	switch mode {
	case "pdf":
		work = PDF
	default:
		return ExitBadRequest
	}
	var b Budget
	if spec == BudgetOnStdin {
		// a spare: what needs no budget now, then wait for the request
		if err := prepare(); err != nil {
			return ExitBadRequest
		}
		var err error
		if spec, in, err = budgetLine(in); err != nil {
			return ExitBadRequest
		}
		if b, err = ParseBudget(spec); err != nil {
			return ExitBadRequest
		}
		if err := confineTo(b); err != nil {
			return ExitBadRequest
		}
	} else {
		var err error
		if b, err = ParseBudget(spec); err != nil {
			return ExitBadRequest
		}
		if err := confine(b); err != nil {
			return ExitBadRequest
		}
	}
	data, err := readInput(in, b.MaxIn)
	if err != nil {
		return ExitBadRequest
	}
	a := func() (a Answer) {
		defer func() {
			if r := recover(); r != nil {
				a = Answer{Status: StatusError, Payload: []byte(shortErr(fmt.Errorf("reader panic: %v", r)))}
			}
		}()
		return work(data, b)
	}()
	if err := WriteAnswer(out, a); err != nil {
		return ExitBadRequest
	}
	return 0
}

// budgetLine reads the budget a spare worker gets first on stdin, and
// returns the rest of stdin, the file (through the same buffer: large
// reads go past it straight to the pipe).
func budgetLine(in io.Reader) (string, io.Reader, error) {
	br := bufio.NewReaderSize(in, 4096)
	line, err := br.ReadSlice('\n')
	if err != nil {
		return "", nil, err
	}
	if len(line) > maxBudgetLine+1 {
		return "", nil, errors.New("budget line too long")
	}
	return string(line[:len(line)-1]), br, nil
}

// shortErr is an error message cut for a reason line (as rules/extract
// cuts its own).
func shortErr(err error) string {
	s := strings.ToValidUTF8(err.Error(), "?")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// CapText cuts t to at most max bytes on a UTF-8 boundary (the gateway's
// extractors cut text the same way).
func CapText(t []byte, max int64) ([]byte, bool) {
	if int64(len(t)) <= max {
		return t, false
	}
	t = t[:max]
	for i := 0; i < utf8.UTFMax && len(t) > 0; i++ {
		if utf8.Valid(t) {
			break
		}
		t = t[:len(t)-1]
	}
	return t, true
}
