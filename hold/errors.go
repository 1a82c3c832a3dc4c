package hold

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; compare with errors.Is.
var (
	ErrNotFound          = errors.New("hold: record not found")
	ErrExists            = errors.New("hold: record already exists")
	ErrInvalid           = errors.New("hold: invalid argument")
	ErrIllegalTransition = errors.New("hold: illegal transition")
	ErrAlreadyDecided    = errors.New("hold: already decided")

	ErrTokenUnknown   = errors.New("hold: unknown token")
	ErrTokenExpired   = errors.New("hold: token expired")
	ErrTokenUsed      = errors.New("hold: token already used")
	ErrTokenWrongRole = errors.New("hold: token has another role")

	ErrChainBroken = errors.New("hold: audit chain broken")
)

// DecidedError reports that a message had already left the held state, with
// the outcome, so a page can say "already released by X at T".
// errors.Is(err, ErrAlreadyDecided) holds for it.
type DecidedError struct {
	ID    string
	State State
	Mode  ReleaseMode
	By    Actor
	At    time.Time
}

func (e *DecidedError) Error() string {
	return fmt.Sprintf("hold: %s already decided: %s by %s at %s",
		e.ID, e.State, e.By.Name, e.At.Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrAlreadyDecided) true.
func (e *DecidedError) Unwrap() error { return ErrAlreadyDecided }

func decidedError(r *Record) *DecidedError {
	return &DecidedError{ID: r.ID, State: r.State, Mode: r.Mode, By: r.DecidedBy, At: r.DecidedAt}
}

// ChainError reports the first audit event whose chain link does not hold.
// errors.Is(err, ErrChainBroken) holds for it.
type ChainError struct {
	Seq    uint64 // first broken sequence number
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("hold: audit chain broken at seq %d: %s", e.Seq, e.Reason)
}

// Unwrap makes errors.Is(err, ErrChainBroken) true.
func (e *ChainError) Unwrap() error { return ErrChainBroken }
