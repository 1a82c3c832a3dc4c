// Package password generates the passwords that open sendguard's encrypted
// attachments and are sent to the sender in a separate notice.
//
// Invariants:
//   - Every character is drawn uniformly from the alphabet by rejection
//     sampling over a CSPRNG (crypto/rand unless a test injects a source):
//     no modulo bias.
//   - A password contains at least one character of each class (upper,
//     lower, digit, symbol) that its alphabet has; passwords that do not are
//     drawn again, so a stuck random source fails instead of yielding a weak
//     password.
//   - Alphabets are printable ASCII without spaces, so every archiver encodes
//     the password the same way.
//   - This package never logs or stores a password.
package password

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

const (
	// DefaultLength gives about 64 bits with DefaultAlphabet (41 symbols).
	DefaultLength = 12
	// DefaultAlphabet has no look-alike characters: no 0/O/o/D/Q, 1/l/I/i/j,
	// 2/Z, 5/S/s, 8/B, u/v, 9/g/q groups, so a password read from a notice on a
	// phone can be typed without guessing.
	DefaultAlphabet = "ACEFGHJKLMNPRTUVWXY" + "abcdefhkmnprtwxyz" + "34679"
	// MinLength and MinAlphabet refuse configurations too weak to use.
	MinLength   = 8
	MinAlphabet = 10
	// maxDraws bounds redraws for the class rule; with any sane alphabet the
	// chance of reaching it is far below 2^-100.
	maxDraws = 200
)

// ErrWeakSource means the random source kept producing passwords that miss
// a character class: it is broken.
var ErrWeakSource = errors.New("password: random source produced no acceptable password")

// Options configures Generate. The zero value means DefaultLength
// characters from DefaultAlphabet, read from crypto/rand.
type Options struct {
	Length   int
	Alphabet string
	// Rand is the random source; nil means crypto/rand.Reader. Only tests
	// should set it.
	Rand io.Reader
}

func (o Options) withDefaults() Options {
	if o.Length == 0 {
		o.Length = DefaultLength
	}
	if o.Alphabet == "" {
		o.Alphabet = DefaultAlphabet
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o
}

// Validate reports whether the options describe an acceptable generator.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	if o.Length < MinLength {
		errs = append(errs, fmt.Errorf("password: length %d below minimum %d", o.Length, MinLength))
	}
	if o.Length > 256 {
		errs = append(errs, fmt.Errorf("password: length %d above 256", o.Length))
	}
	seen := map[byte]bool{}
	for i := 0; i < len(o.Alphabet); i++ {
		c := o.Alphabet[i]
		if c <= ' ' || c > '~' {
			errs = append(errs, fmt.Errorf("password: alphabet character %q is not printable ASCII", c))
			break
		}
		if seen[c] {
			errs = append(errs, fmt.Errorf("password: alphabet repeats %q", c))
			break
		}
		seen[c] = true
	}
	if len(o.Alphabet) < MinAlphabet {
		errs = append(errs, fmt.Errorf("password: alphabet has %d characters, minimum %d", len(o.Alphabet), MinAlphabet))
	}
	return errors.Join(errs...)
}

// New returns a password with the default options.
func New() (string, error) { return Generate(Options{}) }

// Generate returns a new password.
func Generate(opt Options) (string, error) {
	if err := opt.Validate(); err != nil {
		return "", err
	}
	opt = opt.withDefaults()
	classes := classesOf(opt.Alphabet)
	s := &sampler{r: opt.Rand, n: len(opt.Alphabet)}
	out := make([]byte, opt.Length)
	for range maxDraws {
		for i := range out {
			k, err := s.next()
			if err != nil {
				return "", err
			}
			out[i] = opt.Alphabet[k]
		}
		if opt.Length < len(classes) || hasAllClasses(out, classes) {
			return string(out), nil
		}
	}
	return "", ErrWeakSource
}

// Bits is the entropy of a password generated with opt, in bits: log2 of
// the number of equally likely passwords after the class rule.
func Bits(opt Options) float64 {
	opt = opt.withDefaults()
	n := float64(len(opt.Alphabet))
	l := float64(opt.Length)
	classes := classesOf(opt.Alphabet)
	if opt.Length < len(classes) {
		return l * math.Log2(n)
	}
	// Inclusion–exclusion over the classes that are missing.
	frac := 0.0
	for mask := 0; mask < 1<<len(classes); mask++ {
		missing, sign := 0, 1.0
		for i, c := range classes {
			if mask&(1<<i) != 0 {
				missing += len(c)
				sign = -sign
			}
		}
		frac += sign * math.Pow((n-float64(missing))/n, l)
	}
	return l*math.Log2(n) + math.Log2(frac)
}

// classesOf splits an alphabet into its non-empty character classes.
func classesOf(alphabet string) []string {
	var upper, lower, digit, other strings.Builder
	for i := 0; i < len(alphabet); i++ {
		switch c := alphabet[i]; {
		case 'A' <= c && c <= 'Z':
			upper.WriteByte(c)
		case 'a' <= c && c <= 'z':
			lower.WriteByte(c)
		case '0' <= c && c <= '9':
			digit.WriteByte(c)
		default:
			other.WriteByte(c)
		}
	}
	var out []string
	for _, b := range []*strings.Builder{&upper, &lower, &digit, &other} {
		if b.Len() > 0 {
			out = append(out, b.String())
		}
	}
	return out
}

func hasAllClasses(p []byte, classes []string) bool {
	for _, c := range classes {
		if !strings.ContainsAny(string(p), c) {
			return false
		}
	}
	return true
}

// sampler draws uniform indexes in [0, n) for n ≤ 256 from random bytes,
// rejecting the bytes ≥ 256 - 256 mod n that would bias the result.
type sampler struct {
	r   io.Reader
	n   int
	buf [64]byte
	pos int
	end int
}

func (s *sampler) next() (int, error) {
	limit := 256 - 256%s.n
	// Each byte is accepted with probability > 1/2; 1,000 reads without
	// one means the source is broken.
	for range 1000 {
		if s.pos == s.end {
			if _, err := io.ReadFull(s.r, s.buf[:]); err != nil {
				return 0, fmt.Errorf("password: read random source: %w", err)
			}
			s.pos, s.end = 0, len(s.buf)
		}
		b := int(s.buf[s.pos])
		s.pos++
		if b < limit {
			return b % s.n, nil
		}
	}
	return 0, ErrWeakSource
}
