package templates

import (
	"math"
	"strconv"
	"strings"
)

// PPCThreshold is the number of people from which a leak must be reported
// to the Personal Information Protection Commission (APPI rules, art. 7):
// more than 1,000. Any My Number makes it reportable too.
const PPCThreshold = 1000

// PPCReportable reports whether a leak of people people must be reported
// to the PPC; myNumber says the data includes My Numbers.
func PPCReportable(people int, myNumber bool) bool {
	return people >= PPCThreshold || people > 0 && myNumber
}

// RoundPeople rounds a large count to two significant figures (23,456 →
// 23,000): past a thousand the figure is an estimate and reads as one.
func RoundPeople(n int) int {
	if n < PPCThreshold {
		return n
	}
	p := math.Pow(10, math.Floor(math.Log10(float64(n)))-1)
	return int(math.Round(float64(n)/p) * p)
}

// GroupDigits writes n with thousands separators: 23000 → "23,000".
func GroupDigits(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// People says in one line how many people's data the message carries:
// 「約23,000人分の個人データ（個人情報保護委員会への報告対象となる規模）」.
// Empty when the message carries none.
func (c *Catalog) People(lang string, people int, myNumber bool) string {
	if people <= 0 {
		return ""
	}
	n := GroupDigits(RoundPeople(people))
	if people >= PPCThreshold {
		n = c.T(lang, "people.about", n)
	}
	out := c.T(lang, "people.count", n)
	switch {
	case people >= PPCThreshold:
		out += c.T(lang, "people.ppc")
	case PPCReportable(people, myNumber):
		out += c.T(lang, "people.mynumber")
	}
	return out
}

// DataItems names the data items in lang, joined.
func (c *Catalog) DataItems(lang string, items []string) string {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = c.TOr(lang, "item."+it, it)
	}
	return strings.Join(names, c.T(lang, "people.sep"))
}
