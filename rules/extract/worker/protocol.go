// Package worker is the child side of rules/extract's sandbox and the
// protocol both sides speak: the request (the file on stdin, the budget in
// the environment or, for a worker started ahead, on stdin before the
// file), the answer on stdout, the confinement a worker applies
// to itself, and the PDF text extraction it runs.
//
// It imports only the standard library and the PDF reader, so that the
// dedicated worker program (cmd/sendguard-extract) starts in about a
// millisecond instead of paying the gateway's package initialisation on
// every PDF. Keep it that way: `go list -deps ./cmd/sendguard-extract`
// must not grow beyond the PDF reader.
package worker

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Environment variables of a worker request. A process started with Env
// set is a worker: it serves one request and exits.
const (
	Env       = "SENDGUARD_EXTRACT_WORKER" // the mode ("pdf")
	BudgetEnv = "SENDGUARD_EXTRACT_BUDGET" // Budget.Encode, or BudgetOnStdin
)

// BudgetOnStdin in BudgetEnv starts a worker ahead of its file (a spare):
// the budget comes as the first line of stdin, Encode's form and a
// newline, before the file. The worker confines itself once it has the
// budget, as a worker started for its file does at once.
const BudgetOnStdin = "stdin"

// maxBudgetLine bounds that line.
const maxBudgetLine = 256

// Budget is what one worker may use.
type Budget struct {
	Wall     time.Duration // enforced by the parent; not sent
	CPU      time.Duration
	Memory   int64 // address space on top of the worker's start-up size
	MaxIn    int64 // largest input accepted
	MaxText  int64 // text cap
	Ratio    int64 // largest inflated/compressed ratio of one stream
	Inflated int64 // bytes the streams may inflate to in total
}

// Encode is the budget's form in BudgetEnv.
func (b Budget) Encode() string {
	return fmt.Sprintf("cpu=%d,mem=%d,in=%d,text=%d,ratio=%d,inflated=%d",
		CPUSeconds(b.CPU), b.Memory, b.MaxIn, b.MaxText, b.Ratio, b.Inflated)
}

// CPUSeconds rounds a CPU budget up to whole seconds (RLIMIT_CPU's unit).
func CPUSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// ParseBudget reads Encode's form. Every field is required and nothing
// else is accepted: a worker of another version refuses the request (a
// setup failure, so the part is unscannable) rather than guess.
func ParseBudget(s string) (Budget, error) {
	var b Budget
	fields := map[string]*int64{"mem": &b.Memory, "in": &b.MaxIn, "text": &b.MaxText,
		"ratio": &b.Ratio, "inflated": &b.Inflated}
	var cpu int64
	fields["cpu"] = &cpu
	seen := 0
	for kv := range strings.SplitSeq(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		p, ok := fields[k]
		if !ok {
			return b, fmt.Errorf("budget: unknown field %q", k)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return b, fmt.Errorf("budget: bad %s", k)
		}
		*p = n
		seen++
	}
	if seen != len(fields) {
		return b, errors.New("budget: missing fields")
	}
	b.CPU = time.Duration(cpu) * time.Second
	return b, nil
}

// Worker answers: a fixed header, then the payload.
//
//	"SGX1" status(1) truncated(1) inflated(8, big-endian) payload
const (
	answerMagic = "SGX1"
	// AnswerHeader is the answer's size without its payload.
	AnswerHeader = len(answerMagic) + 2 + 8
)

// Answer statuses.
const (
	StatusText      byte = 'T' // payload: UTF-8 text
	StatusEncrypted byte = 'P' // password protected
	StatusLimit     byte = 'L' // payload: reason a limit stopped the read
	StatusError     byte = 'E' // payload: the parser's error
)

// Exit codes a worker uses for the stops it can see itself.
const (
	ExitBadRequest = 3 // no or bad request, or confinement refused
	ExitCPU        = 4 // SIGXCPU: the CPU budget
)

// Answer is a worker's reply.
type Answer struct {
	Status    byte
	Truncated bool
	Inflated  int64
	Payload   []byte
}

// ParseAnswer reads a worker's reply. The worker parsed hostile input and
// may be subverted: anything but a well-formed answer is an error. over
// means the reply was cut at its cap.
func ParseAnswer(b []byte, over bool) (*Answer, error) {
	if over || len(b) < AnswerHeader || string(b[:len(answerMagic)]) != answerMagic {
		return nil, errors.New("malformed worker answer")
	}
	h := b[len(answerMagic):]
	a := &Answer{Status: h[0], Truncated: h[1] == 1, Payload: b[AnswerHeader:]}
	for _, c := range h[2:10] {
		a.Inflated = a.Inflated<<8 | int64(c)
	}
	switch a.Status {
	case StatusText, StatusEncrypted, StatusLimit, StatusError:
	default:
		return nil, errors.New("malformed worker answer")
	}
	if a.Inflated < 0 {
		return nil, errors.New("malformed worker answer")
	}
	return a, nil
}

// WriteAnswer writes a in ParseAnswer's form.
func WriteAnswer(w io.Writer, a Answer) error {
	h := make([]byte, 0, AnswerHeader)
	h = append(h, answerMagic...)
	tr := byte(0)
	if a.Truncated {
		tr = 1
	}
	h = append(h, a.Status, tr)
	for i := 7; i >= 0; i-- {
		h = append(h, byte(a.Inflated>>(8*i)))
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err := w.Write(a.Payload)
	return err
}
