package addressee

import (
	"bytes"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Bounds of the head of a text, where an addressee block stands.
const (
	headLines = 30
	headBytes = 8 << 10
	// blockLines is how many company/department lines above a 「○○様」
	// line belong to its addressee block.
	blockLines = 3
)

// honorifics end the field naming the addressee.
var honorifics = []string{"御中", "様", "殿", "各位", "さま"}

// labels introduce the customer cell of a quotation or invoice header
// (「宛先: 株式会社○○」, 「会社名」 in one cell and the name in the next).
var labels = []string{"宛先", "宛名", "会社名", "御社名", "貴社名", "お客様名", "顧客名", "取引先", "取引先名", "請求先", "送付先", "納品先", "発注元"}

// deptSuffixes end a department name written after a company name
// (「山田商事営業部」).
var deptSuffixes = []string{"事業部", "本部", "部", "課", "室", "支店", "支社", "営業所", "グループ", "チーム"}

// Names returns the directory companies the head of text is addressed to,
// in the order named, without duplicates.
func (d *Directory) Names(text []byte) []int {
	if len(text) > headBytes {
		text = text[:headBytes]
	}
	var (
		out   []int
		block []string // company or department lines since the last addressee line
		seen  int
	)
	add := func(fields []string, loose bool) {
		for _, c := range d.fromFields(fields, loose) {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	for _, raw := range bytes.Split(text, []byte("\n")) {
		line := strings.TrimSpace(norm.NFKC.String(string(raw)))
		if line == "" {
			block = block[:0]
			continue
		}
		if seen++; seen > headLines || isQuoteHeader(line) {
			break
		}
		if line[0] == '>' || line[0] == '|' {
			continue
		}
		if strings.Contains(line, "。") {
			break // the first sentence: the salutation block is over
		}
		fields := strings.Fields(strings.NewReplacer(":", " : ", "：", " : ").Replace(line))
		if i := labelAt(fields); i >= 0 {
			add(fields[i:], true)
			continue
		}
		h := honorificAt(fields)
		if h < 0 {
			if len(block) == blockLines {
				block = block[1:]
			}
			block = append(block, line)
			continue
		}
		// 御中 follows an organisation; before 様 or 殿 stands a person,
		// whose surname may equal a company's name (鈴木 様 vs 株式会社鈴木):
		// there only a name with its legal form counts.
		org := strings.HasSuffix(fields[h], "御中") || strings.HasSuffix(fields[h], "各位")
		own := slices.Clone(fields[:h+1])
		own[h] = trimHonorific(own[h])
		add(own, org)
		for _, b := range block {
			// a line of its own above the addressee: a company or department
			add(strings.Fields(b), true)
		}
		block = block[:0]
	}
	return out
}

// fromFields looks the fields of one addressee line up: each field, a bare
// legal form joined to its neighbour (「株式会社 山田商事」), and all the
// fields together (「ABC Trading Co., Ltd.」). Unless loose, only names
// written with a legal form count.
func (d *Directory) fromFields(fields []string, loose bool) []int {
	var out []int
	try := func(s string) {
		if !loose && !hasLegalForm(strings.ToLower(s)) {
			return
		}
		if c, ok := d.company(s); ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for i, f := range fields {
		if f == "" {
			continue
		}
		if NormalizeName(f) == "" && hasLegalForm(f) {
			if i+1 < len(fields) {
				try(f + fields[i+1])
			}
			if i > 0 {
				try(fields[i-1] + f)
			}
			continue
		}
		try(f)
	}
	if len(fields) > 1 && len(out) == 0 {
		try(strings.Join(fields, ""))
	}
	return out
}

// company finds the directory company named s, or named by s followed by
// a department (「山田商事営業部」): the longest company name wins, and the
// rest must be a kanji department name, so a subsidiary
// (「山田商事ロジスティクス」) is never taken for its parent.
func (d *Directory) company(s string) (int, bool) {
	n := NormalizeName(s)
	if n == "" {
		return 0, false
	}
	if c, ok := d.byName[n]; ok {
		return c, true
	}
	rs := []rune(n)
	for k := len(rs) - 1; k >= 1; k-- {
		if isDepartment(rs[k:]) {
			if c, ok := d.byName[string(rs[:k])]; ok {
				return c, true
			}
		}
	}
	return 0, false
}

func isDepartment(rs []rune) bool {
	s := string(rs)
	for _, suf := range deptSuffixes {
		if strings.HasSuffix(s, suf) {
			head := []rune(strings.TrimSuffix(s, suf))
			if len(head) > 6 {
				return false
			}
			for _, r := range head {
				if !unicode.Is(unicode.Han, r) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// honorificAt returns the index of the first field that is or ends with an
// honorific, or -1.
func honorificAt(fields []string) int {
	for i, f := range fields {
		f = strings.TrimRight(f, closers)
		for _, h := range honorifics {
			if strings.HasSuffix(f, h) {
				return i
			}
		}
	}
	return -1
}

// closers may follow an honorific: 「佐藤様)」「御中、」.
const closers = "、,。:)]」』>"

func trimHonorific(f string) string {
	f = strings.TrimRight(f, closers)
	for _, h := range honorifics {
		f = strings.TrimSuffix(f, h)
	}
	for _, p := range []string{"御担当者", "ご担当者", "担当者", "ご担当", "御担当"} {
		f = strings.TrimSuffix(f, p)
	}
	return f
}

// labelAt returns the index after a label field (「宛先」「:」), or -1.
func labelAt(fields []string) int {
	if len(fields) < 2 {
		return -1
	}
	if !slices.Contains(labels, fields[0]) {
		return -1
	}
	if fields[1] == ":" {
		if len(fields) < 3 {
			return -1
		}
		return 2
	}
	return 1
}

// isQuoteHeader recognises where a quoted earlier message starts.
func isQuoteHeader(line string) bool {
	l := strings.ToLower(line)
	return strings.Contains(l, "original message") || strings.HasSuffix(l, "wrote:") ||
		strings.HasSuffix(line, "書きました:") || strings.HasPrefix(l, "from:") || strings.HasPrefix(line, "差出人:")
}

// Mismatch is one recipient domain that belongs to a directory company
// other than the ones the text is addressed to.
type Mismatch struct {
	Named     string // the addressed company, as the directory names it
	Recipient string // the company the recipient's domain belongs to
	Domain    string
}

// Compare returns, for the companies named (from Names) and the recipients'
// domains, every recipient company that is not among those named; one per
// recipient company. Unknown domains and an empty named list yield nothing.
func (d *Directory) Compare(named []int, domains []string) []Mismatch {
	if len(named) == 0 {
		return nil
	}
	var out []Mismatch
	var done []int
	for _, dom := range domains {
		cs := d.companiesOf(dom)
		if len(cs) == 0 || slices.ContainsFunc(cs, func(c int) bool { return slices.Contains(named, c) }) {
			continue
		}
		if slices.Contains(done, cs[0]) {
			continue
		}
		done = append(done, cs[0])
		out = append(out, Mismatch{Named: d.companies[named[0]].Name, Recipient: d.companies[cs[0]].Name, Domain: dom})
	}
	return out
}
