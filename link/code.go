package link

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
)

// CodeDigits is the length of a one-time code.
const CodeDigits = 8

// ErrCodeMalformed is input that is not a code at all; it does not use up
// a try.
var ErrCodeMalformed = errors.New("link: not a code")

// WrongCodeError is a wrong code with tries left; it matches ErrCodeWrong.
type WrongCodeError struct{ Left int }

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("link: wrong code, %d tries left", e.Left)
}

// Is makes errors.Is(err, ErrCodeWrong) true.
func (e *WrongCodeError) Is(target error) bool { return target == ErrCodeWrong }

func codeHash(salt []byte, h token.Hash, code string) []byte {
	m := sha256.New()
	m.Write([]byte("sendguard/link/code/v1\x00"))
	m.Write(salt)
	m.Write(h[:])
	m.Write([]byte(code))
	return m.Sum(nil)
}

// ParseCode normalises what a person typed: ASCII or full-width digits,
// with spaces and hyphens ignored, exactly CodeDigits of them.
func ParseCode(s string) (string, error) {
	if len(s) > 64 {
		return "", ErrCodeMalformed
	}
	out := make([]byte, 0, CodeDigits)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			out = append(out, byte(r))
		case r >= '０' && r <= '９':
			out = append(out, byte('0'+r-'０'))
		case r == ' ' || r == '-' || r == '\u3000' || r == '\t':
			continue
		default:
			return "", ErrCodeMalformed
		}
		if len(out) > CodeDigits {
			return "", ErrCodeMalformed
		}
	}
	if len(out) != CodeDigits {
		return "", ErrCodeMalformed
	}
	return string(out), nil
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", fmt.Errorf("link: code: %w", err)
	}
	return fmt.Sprintf("%0*d", CodeDigits, n.Int64()), nil
}

// IssueCode makes a new one-time code for a recipient's link, replacing
// any earlier one, and returns it with the address to mail it to. It
// refuses when the package is not live or the link asked for too many
// codes within the window (ErrCodeLimit).
func (s *Store) IssueCode(ctx context.Context, h token.Hash, c Client) (code string, a *Access, err error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		if a, err = resolveTx(tx, h); err != nil {
			return err
		}
		if a.Role != RoleRecipient {
			return ErrWrongRole
		}
		now := s.now()
		if err := liveErr(a.Info.Status(now)); err != nil {
			return err
		}
		cr, err := getCode(tx, h)
		if err != nil {
			return err
		}
		var next *CodeState
		if code, next, err = cr.Issue(h, now, s.opts); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketCodes), h[:], next); err != nil {
			return err
		}
		return s.audit(tx, hold.Event{MessageID: a.Info.MessageID, Action: "link_code_sent",
			Actor: hold.Actor{Name: a.Recipient, Role: string(RoleRecipient), IP: c.IP, UserAgent: c.UserAgent}})
	})
	if err != nil {
		return "", a, err
	}
	return code, a, nil
}

func getCode(tx *bbolt.Tx, h token.Hash) (*codeRec, error) {
	var cr codeRec
	v := tx.Bucket(bucketCodes).Get(h[:])
	if v == nil {
		return &cr, nil
	}
	if err := json.Unmarshal(v, &cr); err != nil {
		return nil, fmt.Errorf("link: decode code: %w", err)
	}
	return &cr, nil
}

// VerifyCode checks a typed code against a recipient link's current code.
// A wrong code uses up a try (a *WrongCodeError says how many are left);
// the last wrong try locks the code (ErrCodeLocked) until a new one is
// requested. A right code is used up: the same code is refused after.
func (s *Store) VerifyCode(ctx context.Context, h token.Hash, typed string, c Client) (*Access, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	code, err := ParseCode(typed)
	if err != nil {
		return nil, err
	}
	var a *Access
	var result error
	err = s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		if a, err = resolveTx(tx, h); err != nil {
			return err
		}
		if a.Role != RoleRecipient {
			return ErrWrongRole
		}
		now := s.now()
		if err := liveErr(a.Info.Status(now)); err != nil {
			return err
		}
		v := tx.Bucket(bucketCodes).Get(h[:])
		if v == nil {
			return ErrNoCode
		}
		cr, err := getCode(tx, h)
		if err != nil {
			return err
		}
		var event string
		if event, result, err = cr.Verify(h, code, now, s.opts); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketCodes), h[:], cr); err != nil {
			return err
		}
		if event == "" {
			return nil
		}
		actor := hold.Actor{Name: a.Recipient, Role: string(RoleRecipient), IP: c.IP, UserAgent: c.UserAgent}
		return s.audit(tx, hold.Event{MessageID: a.Info.MessageID, Action: event, Actor: actor})
	})
	if err != nil {
		return a, err
	}
	return a, result
}
