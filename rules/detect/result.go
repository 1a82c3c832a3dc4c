package detect

import (
	"errors"
	"hash/maphash"
)

// Result is what one scan (or several merged scans) found.
type Result struct {
	// sets are indexed by detector, then dictionaries and custom patterns
	// (Engine.dictSet, Engine.patternSet).
	sets []*valueSet
	e    *Engine // for limits and the hash seed

	// Rows is the number of data rows in tabular input (header excluded).
	Rows int
	// Records is the number of data rows carrying personal data: rows with at
	// least one hit of a detector other than keyword, plus, when the header
	// names a person column, rows whose person column and at least one other
	// personal column (address, phone, e-mail, birth date, …) are non-empty.
	Records int
	// Lines is the number of lines carrying at least one personal-data hit
	// (any detector but keyword), in prose and tables alike: a list pasted
	// into a mail body shows here.
	Lines int
	// CustomerList is set when a header names a person column plus another
	// personal column, or three personal columns: the table lists people.
	CustomerList bool
	// Incomplete, when set, says which part of the text some detector did
	// not scan (custom patterns stopped at their time budget).
	Incomplete string

	people people // distinct people (people.go)
	items  uint32 // data items found, by context category
}

// Hit is one detector's findings. Values is never marshalled.
type Hit struct {
	Detector string `json:"detector"`
	// Count is the number of distinct normalised values.
	Count int `json:"count"`
	// Records is the number of table rows where this detector hit.
	Records int `json:"records,omitempty"`
	// Samples are masked values, in order of first appearance.
	Samples []string `json:"samples"`
	// Values are the first distinct normalised values, present only when
	// the Engine was built with RetainValues (the -reveal debug mode).
	Values []string `json:"-"`
	// Approximate is set when Count is an estimate (≈0.8% standard error):
	// exact counting stops after 4,096 distinct values.
	Approximate bool `json:"approximate,omitempty"`
	// Dictionary and Level name the keyword dictionary that matched.
	Dictionary string `json:"dictionary,omitempty"`
	Level      string `json:"level,omitempty"`
	// Why explains the findings, one line per distinct reason (check digit,
	// context word and its distance, column header, list): never a value.
	Why []string `json:"why,omitempty"`
	// Confidence is "high" when a check digit meets a label, header or
	// prefix, or the value has an exact syntax (e-mail, address, keyword);
	// "medium" when one of them alone decided (a grouping, a list, a label
	// without a check digit).
	Confidence string `json:"confidence,omitempty"`
}

// ErrForeignResult is returned by Merge for results of another Engine.
var ErrForeignResult = errors.New("detect: merge results of different engines")

type valueSet struct {
	seen    distinct
	samples []string
	values  []string
	records int
	why     []evidence // distinct reasons, first maxWhy
}

// maxWhy bounds the reasons kept per detector and location.
const maxWhy = 3

func newResult(e *Engine) *Result { return &Result{e: e, sets: make([]*valueSet, e.numSets())} }

// hash64 hashes a value with the Engine's seed, so results of one Engine
// merge.
func (r *Result) hash64(v []byte) uint64 { return maphash.Bytes(r.e.seed, v) }

// add records the normalised value v for detector d, reported because of ev.
func (r *Result) add(d int, v []byte, ev evidence) {
	if r.e.allow.has(v) {
		return
	}
	vs := r.sets[d]
	if vs == nil {
		vs = &valueSet{}
		r.sets[d] = vs
	}
	vs.addWhy(ev)
	if !vs.seen.add(r.hash64(v)) || vs.seen.approximate() {
		return
	}
	if len(vs.samples) < r.e.cfg.MaxSamples {
		vs.samples = append(vs.samples, r.e.mask(d, v))
	}
	if len(vs.values) < r.e.cfg.MaxValues {
		vs.values = append(vs.values, string(v))
	}
}

// Merge adds o (a later chunk or another part of the same document) into r.
// Distinct values are united; Rows, Records and Lines add up, so merging two
// renderings of the same text (text/plain and text/html) counts their lines
// twice. Samples and values keep first-appearance order: r's first, then
// o's. Both results must come from the same Engine.
func (r *Result) Merge(o *Result) error {
	if o == nil {
		return nil
	}
	if r.e != o.e {
		return ErrForeignResult
	}
	r.Rows += o.Rows
	r.Records += o.Records
	r.Lines += o.Lines
	r.CustomerList = r.CustomerList || o.CustomerList
	r.people.merge(&o.people)
	r.items |= o.items
	if r.Incomplete == "" {
		r.Incomplete = o.Incomplete
	}
	for d, os := range o.sets {
		if os == nil {
			continue
		}
		vs := r.sets[d]
		if vs == nil {
			vs = &valueSet{}
			r.sets[d] = vs
		}
		vs.records += os.records
		for _, ev := range os.why {
			vs.addWhy(ev)
		}
		// o's samples and values belong to its first distinct values; keep
		// those that are new to r.
		r.mergeSamples(vs, os)
		vs.seen.merge(&os.seen)
	}
	return nil
}

// mergeSamples appends o's samples and values that r has not seen. Without
// retained values a sample is new when r's count of distinct values is still
// below MaxSamples and the masked text is not already listed.
func (r *Result) mergeSamples(vs, os *valueSet) {
	if len(os.values) > 0 {
		for i, v := range os.values {
			if vs.seen.has(r.hash64([]byte(v))) {
				continue
			}
			if len(vs.values) < r.e.cfg.MaxValues {
				vs.values = append(vs.values, v)
			}
			if i < len(os.samples) && len(vs.samples) < r.e.cfg.MaxSamples {
				vs.samples = append(vs.samples, os.samples[i])
			}
		}
		return
	}
	for _, smp := range os.samples {
		if len(vs.samples) >= r.e.cfg.MaxSamples {
			return
		}
		dup := false
		for _, have := range vs.samples {
			dup = dup || have == smp
		}
		if !dup {
			vs.samples = append(vs.samples, smp)
		}
	}
}

// Hits returns the findings of every detector that hit, in report order.
func (r *Result) Hits() []Hit {
	var hs []Hit
	for d := range r.sets {
		if h, ok := r.hit(d); ok {
			hs = append(hs, h)
		}
	}
	return hs
}

// Hit returns the findings of the named detector.
func (r *Result) Hit(name string) (Hit, bool) {
	d := detectorIndex(name)
	if d < 0 {
		return Hit{}, false
	}
	return r.hit(d)
}

func (r *Result) hit(d int) (Hit, bool) {
	vs := r.sets[d]
	if vs == nil {
		return Hit{}, false
	}
	return r.e.label(d, Hit{
		Detector:    r.e.setName(d),
		Count:       vs.seen.count(),
		Records:     vs.records,
		Samples:     append([]string(nil), vs.samples...),
		Values:      append([]string(nil), vs.values...),
		Approximate: vs.seen.approximate(),
		Why:         vs.whyText(r.e.whyDetector(d)),
		Confidence:  vs.confidence(r.e.whyDetector(d)),
	}), true
}

// confidence is high when a label meets a check digit or a strict format
// (a valid phone number, a postal code, a residence card's letters), or
// the value has an exact syntax; medium otherwise.
func (vs *valueSet) confidence(d int) string {
	strict := d == detPhone || d == detPostal || d == detResidence
	c := ""
	for _, ev := range vs.why {
		labelled := ev.kind == whyBefore || ev.kind == whyAfter || ev.kind == whyHeader || ev.kind == whyLabelCell || ev.kind == whyPrefix
		switch {
		case ev.kind == whyShape && !ev.check, labelled && (ev.check || strict):
			return "high"
		default:
			c = "medium"
		}
	}
	return c
}

// addWhy keeps ev when it differs from the kept reasons in kind, word or
// check digit (distances alone do not make a new reason).
func (vs *valueSet) addWhy(ev evidence) {
	if len(vs.why) >= maxWhy || ev.kind == whyNone {
		return
	}
	for i, w := range vs.why {
		if w.kind == ev.kind && w.word == ev.word && w.check == ev.check {
			if ev.kind == whyList && ev.dist > w.dist {
				vs.why[i].dist = ev.dist
			}
			return
		}
	}
	vs.why = append(vs.why, ev)
}

func (vs *valueSet) whyText(d int) []string {
	var out []string
	for _, ev := range vs.why {
		out = append(out, ev.text(d))
	}
	return out
}
