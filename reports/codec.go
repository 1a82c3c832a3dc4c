package reports

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// version1 tags the encoding: a version byte, a table of the report's
// distinct strings, then the fields as unsigned varints, strings as
// indexes into the table (a domain, a detector or an action name repeated
// across recipients and findings costs one byte after its first use).
const version1 = 1

// maxErrors bounds the stored count of reading problems, which ToRules
// turns into a list.
const maxErrors = 1 << 12

// ErrCorrupt is a stored report that does not decode.
var ErrCorrupt = errors.New("corrupt stored report")

type encoder struct {
	body  []byte
	index map[string]int
	table []string
}

func (e *encoder) uint(v uint64) { e.body = binary.AppendUvarint(e.body, v) }
func (e *encoder) int(v int)     { e.uint(uint64(max(v, 0))) }
func (e *encoder) bool(b bool) {
	if b {
		e.body = append(e.body, 1)
	} else {
		e.body = append(e.body, 0)
	}
}

func (e *encoder) str(s string) {
	i, ok := e.index[s]
	if !ok {
		i = len(e.table)
		e.index[s] = i
		e.table = append(e.table, s)
	}
	e.int(i)
}

func (e *encoder) strs(ss []string) {
	e.int(len(ss))
	for _, s := range ss {
		e.str(s)
	}
}

// Marshal encodes a report.
func Marshal(r *Report) []byte {
	e := &encoder{index: make(map[string]int, 16), body: make([]byte, 0, 128)}
	e.str(r.QueueID)
	e.uint(uint64(r.Time.UnixNano()))
	e.str(r.Sender)
	e.str(r.From)
	e.uint(uint64(max(r.Size, 0)))
	e.int(min(r.Errors, maxErrors))
	if dir := r.Directory; dir == nil {
		e.bool(false)
	} else {
		e.bool(true)
		e.str(dir.Status)
		e.str(dir.Department)
		e.strs(dir.Groups)
		e.str(dir.Manager)
	}

	rc := &r.Recipients
	e.int(rc.Total)
	e.int(rc.External)
	e.int(rc.VisibleExternal)
	e.strs(rc.ExternalDomains)
	e.strs(rc.VisibleExternalDomains)
	e.strs(rc.FirstTimeDomains)
	e.int(len(rc.Lookalike))
	for _, l := range rc.Lookalike {
		e.str(l.Domain)
		e.str(l.Resembles)
		e.str(l.Reason)
	}
	e.int(len(rc.List))
	for _, x := range rc.List {
		e.str(x.Domain)
		e.str(x.Field)
		e.int(flags(x.External, x.Envelope))
	}

	e.int(len(r.Attachments))
	for _, a := range r.Attachments {
		e.str(a.Ext)
		e.str(a.Type)
		e.str(a.DeclaredType)
		e.uint(uint64(max(a.Size, 0)))
		e.int(a.Depth)
		e.int(flags(a.Encrypted, a.Executable, a.Archive))
		e.str(a.Unscannable)
	}
	e.int(len(r.Findings))
	for _, f := range r.Findings {
		e.str(f.Detector)
		e.int(f.Loc)
		e.int(f.Attachment + 1)
		e.int(f.Count)
		e.int(f.Records)
		e.str(f.Dictionary)
		e.str(f.Level)
		e.str(f.Reason)
	}

	e.strs(r.Actions)
	e.strs(r.Rules)
	e.int(len(r.Shadow))
	for _, s := range r.Shadow {
		e.str(s.Rule)
		e.strs(s.Actions)
	}

	if r.People > 0 || len(r.DataItems) > 0 {
		e.section(sectionPeople, func(e *encoder) {
			e.int(r.People)
			e.bool(r.PeopleApproximate)
			e.strs(r.DataItems)
		})
	}
	if b := r.Behaviour; b != nil {
		e.section(sectionBehaviour, func(e *encoder) {
			e.int(b.Days)
			e.int(b.Messages)
			e.bool(b.Established)
			e.int(b.Hour)
			e.fixed(b.HourShare, 1e4)
			e.int(b.HourMessages)
			e.fixed(b.PerHour, 1e3)
			e.int(b.DayExternal)
			e.fixed(b.PerDayExternal, 1e3)
			e.uint(uint64(max(b.DayAttachmentBytes, 0)))
			e.fixed(b.PerDayAttachmentBytes, 1)
			e.int(b.ExternalAttachments)
		})
	}

	out := make([]byte, 0, 1+len(e.body)+16*len(e.table))
	out = append(out, version1)
	out = binary.AppendUvarint(out, uint64(len(e.table)))
	for _, s := range e.table {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return append(out, e.body...)
}

// Optional sections follow the fixed fields, each a tag, a length and
// its fields, so that fields added later are additive: a reader skips a
// tag it does not know, and a report without a section decodes as before.
const (
	sectionBehaviour = 1 // the sender's baseline (rules.SenderBehaviour)
	sectionPeople    = 2 // people affected and data items
)

// section appends tag, the length of what fill encodes, then it. Strings
// in a section share the report's table.
func (e *encoder) section(tag int, fill func(*encoder)) {
	sub := &encoder{index: e.index, table: e.table}
	fill(sub)
	e.table = sub.table
	e.int(tag)
	e.int(len(sub.body))
	e.body = append(e.body, sub.body...)
}

// fixed stores a non-negative fraction as an integer of 1/scale units.
func (e *encoder) fixed(v, scale float64) {
	e.uint(uint64(math.Round(max(v, 0) * scale)))
}

func flags(bs ...bool) int {
	n := 0
	for i, b := range bs {
		if b {
			n |= 1 << i
		}
	}
	return n
}

type decoder struct {
	b     []byte
	table []string
	err   error
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length, bounded by what is left so that a corrupt record
// cannot make us allocate much.
func (d *decoder) count() int {
	v := d.uint()
	if v > uint64(len(d.b)) {
		d.err = ErrCorrupt
		return 0
	}
	return int(v)
}

func (d *decoder) int() int { return int(min(d.uint(), 1<<31)) }

func (d *decoder) fixed(scale float64) float64 { return float64(min(d.uint(), 1<<53)) / scale }

func (d *decoder) str() string {
	i := d.uint()
	if d.err != nil {
		return ""
	}
	if i >= uint64(len(d.table)) {
		d.err = ErrCorrupt
		return ""
	}
	return d.table[i]
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// Unmarshal decodes a report written by Marshal.
func Unmarshal(b []byte) (*Report, error) {
	if len(b) == 0 || b[0] != version1 {
		return nil, fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	d := &decoder{b: b[1:]}
	n := d.count()
	d.table = make([]string, n)
	for i := range d.table {
		l := d.count()
		if d.err != nil {
			break
		}
		d.table[i] = string(d.b[:l])
		d.b = d.b[l:]
	}
	r := &Report{}
	r.QueueID = d.str()
	r.Time = time.Unix(0, int64(d.uint()))
	r.Sender = d.str()
	r.From = d.str()
	r.Size = int64(min(d.uint(), 1<<62))
	if r.Errors = d.int(); r.Errors > maxErrors {
		d.err = ErrCorrupt
	}
	switch d.int() {
	case 0:
	case 1:
		r.Directory = &rules.SenderDirectory{Status: d.str(), Department: d.str(), Groups: d.strs(), Manager: d.str()}
	default:
		d.err = ErrCorrupt
	}

	rc := &r.Recipients
	rc.Total, rc.External, rc.VisibleExternal = d.int(), d.int(), d.int()
	rc.ExternalDomains = d.strs()
	rc.VisibleExternalDomains = d.strs()
	rc.FirstTimeDomains = d.strs()
	if n := d.count(); n > 0 {
		rc.Lookalike = make([]Lookalike, n)
		for i := range rc.Lookalike {
			rc.Lookalike[i] = Lookalike{Domain: d.str(), Resembles: d.str(), Reason: d.str()}
		}
	}
	if n := d.count(); n > 0 {
		rc.List = make([]Recipient, n)
		for i := range rc.List {
			x := &rc.List[i]
			x.Domain, x.Field = d.str(), d.str()
			f := d.int()
			x.External, x.Envelope = f&1 != 0, f&2 != 0
		}
	}
	if n := d.count(); n > 0 {
		r.Attachments = make([]Attachment, n)
		for i := range r.Attachments {
			a := &r.Attachments[i]
			a.Ext, a.Type, a.DeclaredType = d.str(), d.str(), d.str()
			a.Size = int64(min(d.uint(), 1<<62))
			a.Depth = d.int()
			f := d.int()
			a.Encrypted, a.Executable, a.Archive = f&1 != 0, f&2 != 0, f&4 != 0
			a.Unscannable = d.str()
		}
	}
	if n := d.count(); n > 0 {
		r.Findings = make([]Finding, n)
		for i := range r.Findings {
			f := &r.Findings[i]
			f.Detector = d.str()
			f.Loc = d.int()
			f.Attachment = d.int() - 1
			f.Count, f.Records = d.int(), d.int()
			f.Dictionary, f.Level, f.Reason = d.str(), d.str(), d.str()
		}
	}
	r.Actions = d.strs()
	r.Rules = d.strs()
	if n := d.count(); n > 0 {
		r.Shadow = make([]policy.Shadow, n)
		for i := range r.Shadow {
			r.Shadow[i] = policy.Shadow{Rule: d.str(), Actions: d.strs()}
		}
	}
	for d.err == nil && len(d.b) > 0 {
		tag, n := d.int(), d.count()
		if d.err != nil {
			break
		}
		sec := &decoder{b: d.b[:n], table: d.table}
		d.b = d.b[n:]
		switch tag {
		case sectionBehaviour:
			b := &rules.SenderBehaviour{}
			b.Days, b.Messages = sec.int(), sec.int()
			b.Established = sec.int() == 1
			b.Hour = sec.int()
			b.HourShare = sec.fixed(1e4)
			b.HourMessages = sec.int()
			b.PerHour = sec.fixed(1e3)
			b.DayExternal = sec.int()
			b.PerDayExternal = sec.fixed(1e3)
			b.DayAttachmentBytes = int64(min(sec.uint(), 1<<62))
			b.PerDayAttachmentBytes = sec.fixed(1)
			b.ExternalAttachments = sec.int()
			r.Behaviour = b
		case sectionPeople:
			r.People = sec.int()
			r.PeopleApproximate = sec.int() == 1
			r.DataItems = sec.strs()
		default:
			continue // a later version's section
		}
		if sec.err != nil || len(sec.b) != 0 {
			d.err = ErrCorrupt
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}
