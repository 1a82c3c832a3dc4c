package addressee

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Company is one directory entry: a display name and the mail domains it
// uses (subdomains included).
type Company struct {
	Name    string
	Domains []string
}

// Directory maps normalised company names and mail domains to companies.
// It is immutable and safe for concurrent use.
type Directory struct {
	companies []Company
	byName    map[string]int
	byDomain  map[string][]int
}

// NewDirectory validates and indexes the companies. Two entries whose names
// normalise alike are an error; a domain may belong to several companies
// (group companies sharing one domain).
func NewDirectory(cs []Company) (*Directory, error) {
	d := &Directory{byName: map[string]int{}, byDomain: map[string][]int{}}
	var errs []string
	for i, c := range cs {
		key := NormalizeName(c.Name)
		if key == "" {
			errs = append(errs, fmt.Sprintf("partners[%d]: name %q is empty once legal forms are removed", i, c.Name))
			continue
		}
		if j, dup := d.byName[key]; dup {
			errs = append(errs, fmt.Sprintf("partners[%d]: %q is the same company as partners[%d] %q", i, c.Name, j, cs[j].Name))
			continue
		}
		if len(c.Domains) == 0 {
			errs = append(errs, fmt.Sprintf("partners[%d] %q: no domains", i, c.Name))
		}
		idx := len(d.companies)
		cc := Company{Name: strings.TrimSpace(c.Name)}
		for _, dom := range c.Domains {
			a, err := canonDomain(dom)
			if err != nil {
				errs = append(errs, fmt.Sprintf("partners[%d] %q: domain %q: %v", i, c.Name, dom, err))
				continue
			}
			if !slices.Contains(d.byDomain[a], idx) {
				d.byDomain[a] = append(d.byDomain[a], idx)
				cc.Domains = append(cc.Domains, a)
			}
		}
		d.byName[key] = idx
		d.companies = append(d.companies, cc)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("partner directory: %s", strings.Join(errs, "; "))
	}
	return d, nil
}

func canonDomain(s string) (string, error) {
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	s = strings.TrimPrefix(s, "@")
	a, err := idna.Lookup.ToASCII(s)
	if err != nil || a == "" || !strings.Contains(a, ".") {
		return "", fmt.Errorf("not a domain")
	}
	return a, nil
}

// Len is the number of companies.
func (d *Directory) Len() int { return len(d.companies) }

// lookupName returns the company whose normalised name equals that of s.
func (d *Directory) lookupName(s string) (int, bool) {
	i, ok := d.byName[NormalizeName(s)]
	return i, ok
}

// companiesOf returns the companies a domain belongs to: those listing the
// longest matching suffix of it.
func (d *Directory) companiesOf(domain string) []int {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	for {
		if cs, ok := d.byDomain[domain]; ok {
			return cs
		}
		i := strings.IndexByte(domain, '.')
		if i < 0 {
			return nil
		}
		domain = domain[i+1:]
		if !strings.Contains(domain, ".") {
			return nil
		}
	}
}

// legalForms are removed from names before comparing, longest first where
// one contains another. Forms are NFKC (㈱ is already "(株)").
var legalForms = []string{
	"特定非営利活動法人", "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人",
	"社会福祉法人", "医療法人社団", "医療法人財団", "医療法人", "学校法人", "独立行政法人",
	"株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "npo法人",
	"(株)", "(有)", "(同)", "(資)", "(名)", "(社)", "(財)", "(医)", "(学)",
	"co.,ltd.", "co.,ltd", "co.ltd.", "co.ltd", "corporation", "corp.", "inc.", "ltd.", "llc", "k.k.",
}

// NormalizeName is the comparable form of a company name: NFKC, lower case,
// spaces and legal forms removed.
func NormalizeName(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	s = b.String()
	for _, f := range legalForms {
		s = strings.ReplaceAll(s, f, "")
	}
	return strings.Trim(s, ",.・:()[]「」『』<>")
}

// hasLegalForm reports whether the NFKC text s names a legal form.
func hasLegalForm(s string) bool {
	l := strings.ToLower(s)
	for _, f := range legalForms {
		if strings.Contains(l, f) {
			return true
		}
	}
	return false
}
