package detect

import (
	"errors"
	"fmt"
	"strings"
)

// Detector names; they are part of the `check -json` contract.
const (
	MyNumber        = "mynumber"
	CorporateNumber = "corporate_number"
	CreditCard      = "credit_card"
	JPPhone         = "jp_phone"
	EmailAddress    = "email_address"
	PostalCode      = "postal_code"
	JPAddress       = "jp_address"
	BankAccount     = "bank_account"
	Passport        = "passport"
	DriversLicense  = "drivers_license"
	Pension         = "pension_number"
	ResidenceCard   = "residence_card"
	JuminhyoCode    = "juminhyo_code"
	HealthInsurance = "health_insurance"
	Keyword         = "keyword"
)

// detector ids index per-detector state; the order is the report order.
const (
	detMyNumber = iota
	detCorporate
	detCard
	detPhone
	detEmail
	detPostal
	detAddress
	detBank
	detPassport
	detLicense
	detPension
	detResidence
	detJuminhyo
	detHealth
	detKeyword
	numDetectors
)

var detectorNames = [numDetectors]string{
	MyNumber, CorporateNumber, CreditCard, JPPhone, EmailAddress, PostalCode,
	JPAddress, BankAccount, Passport, DriversLicense,
	Pension, ResidenceCard, JuminhyoCode, HealthInsurance, Keyword,
}

// piiMask selects the detectors whose hits make a table row a record.
const piiMask = 1<<detKeyword - 1

// Names returns every detector name in report order.
func Names() []string { return append([]string(nil), detectorNames[:]...) }

// Config selects detectors and bounds the result. The zero value enables
// every detector with the default dictionary.
type Config struct {
	// Keywords replaces the terms of the built-in confidentiality
	// dictionary when non-nil.
	Keywords []string
	// NoBuiltinDictionary drops the built-in dictionary's terms (a
	// configured dictionary named BuiltinDictionary then defines them).
	NoBuiltinDictionary bool
	// Dictionaries are the company's own term lists; one named
	// BuiltinDictionary extends the built-in one.
	Dictionaries []Dictionary
	// Patterns are custom detectors, reported as "pattern:NAME".
	Patterns []Pattern
	// Allow lists values that are never findings (TestValues, the
	// company's own published numbers).
	Allow []string
	// Disabled lists detector names to switch off.
	Disabled []string
	// MaxSamples bounds masked samples per detector (default 3).
	MaxSamples int
	// RetainValues keeps up to MaxValues raw (normalised) values per detector
	// for the `-reveal` debug mode. Off by default: results hold no raw PII.
	RetainValues bool
	// MaxValues bounds retained raw values per detector (default 1,000).
	MaxValues int
}

const (
	defaultMaxSamples = 3
	defaultMaxValues  = 1000
	maxKeywordRunes   = 64
)

// normalise fills defaults and returns every problem at once.
func (c Config) normalise() (Config, [numDetectors]bool, error) {
	var enabled [numDetectors]bool
	for i := range enabled {
		enabled[i] = true
	}
	var errs []error
	for _, name := range c.Disabled {
		i := detectorIndex(name)
		if i < 0 {
			errs = append(errs, fmt.Errorf("disabled: unknown detector %q", name))
			continue
		}
		enabled[i] = false
	}
	for i, k := range c.Keywords {
		n := len([]rune(strings.TrimSpace(k)))
		if n == 0 || n > maxKeywordRunes {
			errs = append(errs, fmt.Errorf("keywords[%d]: length must be 1..%d characters", i, maxKeywordRunes))
		}
	}
	errs = append(errs, checkDictionaries(c.dictionaries())...)
	if _, perrs := compilePatterns(c.Patterns); len(perrs) > 0 {
		errs = append(errs, perrs...)
	}
	switch {
	case c.MaxSamples < 0, c.MaxValues < 0:
		errs = append(errs, errors.New("max_samples and max_values must not be negative"))
	}
	if c.MaxSamples == 0 {
		c.MaxSamples = defaultMaxSamples
	}
	if c.MaxValues == 0 {
		c.MaxValues = defaultMaxValues
	}
	if !c.RetainValues {
		c.MaxValues = 0
	}
	return c, enabled, errors.Join(errs...)
}

func detectorIndex(name string) int {
	for i, n := range detectorNames {
		if n == name {
			return i
		}
	}
	return -1
}
