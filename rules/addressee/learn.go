package addressee

import (
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Learning from traffic: which company names the display names of
// delivered recipients carry for each domain ("佐藤 一郎 (株式会社山田商事)"
// <sato@yamada-logi.co.jp>). A domain the partner directory does not list
// is then compared by the names learned for it, so that a quotation
// addressed to a directory company but sent to a group company's or
// subsidiary's domain is caught although only the parent is configured.
//
// Learned names decay (half-life LearnHalfLife) and count only above
// LearnMinWeight, so one delivery — which may itself be a mis-send —
// teaches nothing, and a partner that stopped mailing is forgotten. The
// store (the gateway's delivery history) keeps at most LearnMaxNames names
// per domain.
const (
	LearnHalfLife  = 90 * 24 * time.Hour
	LearnMinWeight = 2.5
	LearnMaxNames  = 8
)

// LearnedNames answers which company names traffic has shown with a
// domain, best first, above LearnMinWeight.
type LearnedNames interface {
	NamesFor(domain string) []string
}

// NameWeight is one learned name of a domain.
type NameWeight struct {
	Name   string    `json:"name"`
	Weight float64   `json:"w"`
	Last   time.Time `json:"last"`
}

// decayed is w's weight at now.
func (w NameWeight) decayed(now time.Time) float64 {
	age := now.Sub(w.Last)
	if age <= 0 {
		return w.Weight
	}
	return w.Weight * math.Exp2(-float64(age)/float64(LearnHalfLife))
}

// Observe adds one delivery showing name with the domain. Names that
// normalise alike are one entry (the latest spelling kept); beyond
// LearnMaxNames the weakest is dropped.
func Observe(ws []NameWeight, name string, now time.Time) []NameWeight {
	key := NormalizeName(name)
	if key == "" {
		return ws
	}
	out := slices.Clone(ws)
	for i := range out {
		if NormalizeName(out[i].Name) == key {
			out[i] = NameWeight{Name: name, Weight: out[i].decayed(now) + 1, Last: now}
			return out
		}
	}
	out = append(out, NameWeight{Name: name, Weight: 1, Last: now})
	if len(out) > LearnMaxNames {
		slices.SortFunc(out, func(a, b NameWeight) int { return cmpFloat(b.decayed(now), a.decayed(now)) })
		out = out[:LearnMaxNames]
	}
	return out
}

// Above returns the names whose decayed weight reaches LearnMinWeight,
// heaviest first.
func Above(ws []NameWeight, now time.Time) []string {
	ws = slices.Clone(ws)
	slices.SortFunc(ws, func(a, b NameWeight) int { return cmpFloat(b.decayed(now), a.decayed(now)) })
	var out []string
	for _, w := range ws {
		if w.decayed(now) >= LearnMinWeight {
			out = append(out, w.Name)
		}
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// CompanyInDisplayName returns the company a recipient's display name
// carries: the part with a legal form ("株式会社山田商事", "(株)山田商事",
// "Yamada Shoji Co., Ltd."), joined to its neighbour when the legal form
// stands alone ("株式会社 山田商事 佐藤様"). A name without a legal form
// says nothing: 佐藤 一郎 could be anyone's.
func CompanyInDisplayName(s string) (string, bool) {
	s = norm.NFKC.String(s)
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '/' || r == '|' || r == '<' || r == '>' || r == '[' || r == ']' || r == '【' || r == '】'
	})
	for i, f := range fields {
		f = strings.Trim(f, "()「」『』,")
		if !hasLegalForm(f) && !hasLegalForm(fields[i]) {
			continue
		}
		cand := strings.Trim(fields[i], "「」『』,")
		if strings.HasPrefix(cand, "(") && strings.HasSuffix(cand, ")") && hasLegalForm(cand[1:len(cand)-1]) {
			cand = cand[1 : len(cand)-1] // "(北海物産ロジ株式会社)", not "(株)"
		}
		if NormalizeName(cand) == "" { // the legal form alone: take the neighbour
			switch {
			case i+1 < len(fields):
				cand += dropHonorific(fields[i+1])
			case i > 0:
				cand = fields[i-1] + cand
			}
		}
		cand = dropHonorific(cand)
		if NormalizeName(cand) != "" && len([]rune(cand)) <= 40 && !strings.ContainsAny(cand, "。、") {
			return cand, true
		}
	}
	// English forms span fields: "Yamada Shoji Co., Ltd."
	l := strings.ToLower(s)
	for _, f := range []string{"co., ltd.", "co.,ltd.", "corporation", "inc.", "corp."} {
		if i := strings.Index(l, f); i > 0 {
			cand := strings.TrimSpace(s[:i+len(f)])
			if j := strings.LastIndexAny(cand[:len(cand)-len(f)], "(/|"); j >= 0 {
				cand = strings.TrimSpace(cand[j+1:])
			}
			if NormalizeName(cand) != "" {
				return cand, true
			}
		}
	}
	return "", false
}

// CompareLearned is Compare, with domains the directory does not list
// compared by the names learned for them: a recipient domain learned for
// a company other than every one named is a mismatch too.
func (d *Directory) CompareLearned(named []int, domains []string, l LearnedNames) []Mismatch {
	out := d.Compare(named, domains)
	if l == nil || len(named) == 0 {
		return out
	}
	namedKeys := map[string]bool{}
	for _, n := range named {
		namedKeys[NormalizeName(d.companies[n].Name)] = true
	}
	done := map[string]bool{}
	for _, dom := range domains {
		if len(d.companiesOf(dom)) > 0 {
			continue // the directory is authoritative for what it lists
		}
		names := l.NamesFor(dom)
		if len(names) == 0 || slices.ContainsFunc(names, func(n string) bool { return namedKeys[NormalizeName(n)] }) {
			continue
		}
		key := NormalizeName(names[0])
		if done[key] {
			continue
		}
		done[key] = true
		out = append(out, Mismatch{Named: d.companies[named[0]].Name, Recipient: names[0], Domain: dom})
	}
	return out
}

// dropHonorific removes a trailing 様, 殿, ... (but no bracket: "(株)"
// ends with one).
func dropHonorific(f string) string {
	for _, h := range honorifics {
		f = strings.TrimSuffix(f, h)
	}
	return f
}

// QuotedSignature is a company line of a quoted message's signature and
// the domain of the address its quote header names.
type QuotedSignature struct {
	Domain string
	Name   string
}

// QuotedSignatures reads the quoted messages of a reply: after a quote
// header that names an address ("From: 佐藤 <sato@hokkai-logi.co.jp>",
// "On ..., sato@hokkai-logi.co.jp wrote:"), a line that is a company name
// with a legal form (the quoted sender's signature) goes with that
// address's domain, up to the next quote header. Quoted messages whose
// header names no address teach nothing: they may be the company's own.
func QuotedSignatures(text []byte) []QuotedSignature {
	var out []QuotedSignature
	domain := ""
	for _, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), ">| "))
		if line == "" {
			continue
		}
		if isQuoteHeader(line) {
			domain = addressDomain(line)
			continue
		}
		if domain == "" || len([]rune(line)) > 40 || strings.ContainsAny(line, "。、") {
			continue // a sentence, not a signature line
		}
		name, ok := CompanyInDisplayName(line)
		// the line is the company (and perhaps a department), not a
		// sentence that mentions one
		if ok && len([]rune(name))*2 >= len([]rune(norm.NFKC.String(line))) &&
			!slices.ContainsFunc(out, func(q QuotedSignature) bool { return q.Domain == domain && q.Name == name }) {
			out = append(out, QuotedSignature{Domain: domain, Name: name})
		}
		if len(out) >= 8 {
			break
		}
	}
	return out
}

// addressDomain is the lower-cased domain of the first address in line.
func addressDomain(line string) string {
	at := strings.IndexByte(line, '@')
	if at <= 0 {
		return ""
	}
	end := at + 1
	for end < len(line) && (line[end] == '.' || line[end] == '-' || line[end] >= 'a' && line[end] <= 'z' ||
		line[end] >= 'A' && line[end] <= 'Z' || line[end] >= '0' && line[end] <= '9') {
		end++
	}
	d := strings.Trim(strings.ToLower(line[at+1:end]), ".-")
	if !strings.Contains(d, ".") {
		return ""
	}
	return d
}
