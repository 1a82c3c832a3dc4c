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

// DefaultKeywords is the confidentiality dictionary used when Config.Keywords
// is nil. Matching ignores ASCII case, full-width forms and runs of spaces.
func DefaultKeywords() []string {
	return []string{
		"社外秘", "部外秘", "関係者外秘", "社内限り", "社内限定", "部内限り",
		"機密", "極秘", "㊙", "マル秘", "取扱注意", "取り扱い注意", "取扱い注意",
		"持出禁止", "持ち出し禁止", "複製禁止", "転送禁止", "開示禁止",
		"Confidential", "Strictly Confidential", "Highly Confidential",
		"Internal Use Only", "Internal Only", "Do Not Distribute",
		"Do Not Forward", "Proprietary", "Top Secret",
	}
}

// Config selects detectors and bounds the result. The zero value enables
// every detector with the default dictionary.
type Config struct {
	// Keywords replaces the confidentiality dictionary when non-nil.
	Keywords []string
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
	if c.Keywords == nil {
		c.Keywords = DefaultKeywords()
	}
	for i, k := range c.Keywords {
		n := len([]rune(strings.TrimSpace(k)))
		if n == 0 || n > maxKeywordRunes {
			errs = append(errs, fmt.Errorf("keywords[%d]: length must be 1..%d characters", i, maxKeywordRunes))
		}
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
