package policy

import (
	"regexp"
	"strconv"

	"github.com/sendguard/sendguard/rules"
)

// placeholder is {finding:DETECTOR:N} in a reason: the N-th masked sample of
// the first finding of DETECTOR, so that a reason can name what was found
// (「宛名は株式会社Aですが、宛先はB社のドメインです」). Samples are masked,
// so a reason never carries more than the report already shows.
var placeholder = regexp.MustCompile(`\{finding:([a-z0-9_]+):([0-9])\}`)

// expandReasons fills the placeholders of d's reasons from the report; a
// placeholder without a sample becomes empty.
func expandReasons(d *Decision, r *rules.Report) {
	fill := func(s string) string {
		return placeholder.ReplaceAllStringFunc(s, func(m string) string {
			sm := placeholder.FindStringSubmatch(m)
			n, _ := strconv.Atoi(sm[2])
			for _, f := range r.Findings {
				if f.Detector == sm[1] && n < len(f.Samples) {
					return f.Samples[n]
				}
			}
			return ""
		})
	}
	for i := range d.Reasons {
		d.Reasons[i].JA = fill(d.Reasons[i].JA)
		d.Reasons[i].EN = fill(d.Reasons[i].EN)
	}
}
