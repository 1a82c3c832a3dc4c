package baseline

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/sendguard/sendguard/rules"
)

// A record is established after this much history; before, its signals
// never flag anything.
const (
	MinDays     = 5
	MinMessages = 20
)

// Decay: hours of the day halve in weight every hourHalfLife; each older
// active hour weighs hourKeep of the next, each older active day dayKeep.
const (
	hourHalfLife = 30 * 24 * time.Hour
	hourKeep     = 0.95
	dayKeep      = 1 - 1.0/14
	maxCount     = 1 << 30 // caps for Days, Messages, ExternalAttachments
)

// Record is one sender's baseline.
type Record struct {
	// Updated is the last observation's time (the decay reference).
	Updated  time.Time
	Days     int // distinct days with mail
	Messages int
	// Hours are decayed message counts by hour of the day.
	Hours [24]float64

	// The current clock hour and day (numbered from the epoch in the
	// company's zone) and their counts so far.
	Hour, Day          int64
	HourMessages       int
	DayExternal        int
	DayAttachmentBytes int64

	// Decayed sums and weights of the finished active hours and days:
	// the usual value is sum / weight.
	HourSum, HourWeight        float64
	ExternalSum, AttachmentSum float64
	DayWeight                  float64
	ExternalAttachments        int
}

// Observation is what one accepted message adds to its sender's baseline.
type Observation struct {
	At       time.Time
	External int // external recipients
	// AttachmentBytes are the top-level attachments' bytes when the message
	// has an external recipient (policy.ExternalAttachmentBytes).
	AttachmentBytes int64
	// ExternalAttachment: an attachment and an external recipient.
	ExternalAttachment bool
}

// clock numbers hours and days in loc.
func clock(t time.Time, loc *time.Location) (hour, day int64, hod int) {
	t = t.In(loc)
	y, m, d := t.Date()
	day = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	return day*24 + int64(t.Hour()), day, t.Hour()
}

// advance rolls the record forward to t: a finished hour or day folds into
// its average, the hours of the day decay. A t before Updated (a clock
// step back) rolls nothing.
func (r *Record) advance(t time.Time, loc *time.Location) {
	if r.Messages == 0 {
		return
	}
	hour, day, _ := clock(t, loc)
	if hour > r.Hour && r.HourMessages > 0 {
		r.HourSum = r.HourSum*hourKeep + float64(r.HourMessages)
		r.HourWeight = r.HourWeight*hourKeep + 1
		r.HourMessages = 0
	}
	if hour > r.Hour {
		r.Hour = hour
	}
	if day > r.Day {
		// the day just finished had mail (a record starts with its first)
		r.ExternalSum = r.ExternalSum*dayKeep + float64(r.DayExternal)
		r.AttachmentSum = r.AttachmentSum*dayKeep + float64(r.DayAttachmentBytes)
		r.DayWeight = r.DayWeight*dayKeep + 1
		r.DayExternal, r.DayAttachmentBytes, r.Day = 0, 0, day
	}
	if dt := t.Sub(r.Updated); dt > 0 {
		f := math.Exp2(-float64(dt) / float64(hourHalfLife))
		for i := range r.Hours {
			r.Hours[i] *= f
		}
		r.Updated = t
	}
}

// Observe adds one message.
func (r *Record) Observe(o Observation, loc *time.Location) {
	hour, day, hod := clock(o.At, loc)
	if r.Messages == 0 {
		r.Hour, r.Day, r.Updated, r.Days = hour, day, o.At, 1
	} else {
		if day > r.Day {
			r.Days = min(r.Days+1, maxCount)
		}
		r.advance(o.At, loc)
	}
	r.Messages = min(r.Messages+1, maxCount)
	r.Hours[hod]++
	r.HourMessages++
	r.DayExternal += max(o.External, 0)
	r.DayAttachmentBytes += max(o.AttachmentBytes, 0)
	if o.ExternalAttachment {
		r.ExternalAttachments = min(r.ExternalAttachments+1, maxCount)
	}
}

// Behaviour is what the record says at t, before a message sent then: the
// record itself is not changed.
func (r Record) Behaviour(t time.Time, loc *time.Location) *rules.SenderBehaviour {
	_, _, hod := clock(t, loc)
	b := &rules.SenderBehaviour{Hour: hod}
	if r.Messages == 0 {
		return b
	}
	r.advance(t, loc) // r is a copy
	b.Days, b.Messages = r.Days, r.Messages
	b.Established = r.Days >= MinDays && r.Messages >= MinMessages
	var total float64
	for _, v := range r.Hours {
		total += v
	}
	if total > 0 {
		near := r.Hours[(hod+23)%24] + r.Hours[hod] + r.Hours[(hod+1)%24]
		b.HourShare = near / total
	}
	// The current (unfinished) hour and day count as they stand; the usual
	// figures are over finished ones.
	b.HourMessages = r.HourMessages
	if r.HourWeight > 0 {
		b.PerHour = r.HourSum / r.HourWeight
	}
	b.DayExternal, b.DayAttachmentBytes = r.DayExternal, r.DayAttachmentBytes
	if r.DayWeight > 0 {
		b.PerDayExternal = r.ExternalSum / r.DayWeight
		b.PerDayAttachmentBytes = r.AttachmentSum / r.DayWeight
	}
	b.ExternalAttachments = r.ExternalAttachments
	return b
}

// recordVersion tags the encoding.
const recordVersion = 1

// ErrCorrupt is a stored record that does not decode.
var ErrCorrupt = errors.New("corrupt sender baseline")

// Marshal encodes a record: a version byte then fixed-size fields, the
// floats as float32 (the precision a baseline needs).
func (r *Record) Marshal() []byte {
	b := make([]byte, 0, recordSize)
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Updated.UnixNano()))
	for _, v := range []int64{int64(r.Days), int64(r.Messages), r.Hour, r.Day, int64(r.HourMessages),
		int64(r.DayExternal), r.DayAttachmentBytes, int64(r.ExternalAttachments)} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	for _, v := range r.Hours {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(float32(v)))
	}
	for _, v := range []float64{r.HourSum, r.HourWeight, r.ExternalSum, r.AttachmentSum, r.DayWeight} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

const recordSize = 1 + 8 + 8*8 + 24*4 + 5*8

// Unmarshal decodes a record written by Marshal.
func Unmarshal(b []byte) (Record, error) {
	var r Record
	if len(b) != recordSize || b[0] != recordVersion {
		return r, ErrCorrupt
	}
	b = b[1:]
	u64 := func() uint64 { v := binary.BigEndian.Uint64(b); b = b[8:]; return v }
	r.Updated = time.Unix(0, int64(u64()))
	ints := make([]int64, 8)
	for i := range ints {
		ints[i] = int64(u64())
	}
	r.Days, r.Messages, r.Hour, r.Day = int(ints[0]), int(ints[1]), ints[2], ints[3]
	r.HourMessages, r.DayExternal, r.DayAttachmentBytes, r.ExternalAttachments = int(ints[4]), int(ints[5]), ints[6], int(ints[7])
	for i := range r.Hours {
		r.Hours[i] = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
		b = b[4:]
	}
	for _, p := range []*float64{&r.HourSum, &r.HourWeight, &r.ExternalSum, &r.AttachmentSum, &r.DayWeight} {
		*p = math.Float64frombits(u64())
	}
	if r.Days < 0 || r.Messages < 0 || r.HourMessages < 0 || r.DayExternal < 0 || r.DayAttachmentBytes < 0 || r.ExternalAttachments < 0 {
		return Record{}, ErrCorrupt
	}
	return r, nil
}
