package hold

import (
	"encoding/binary"
	"time"
)

// Bucket names. The spool shares the DB, so every bucket is prefixed.
var (
	bucketRecords   = []byte("hold_records")   // id → record JSON (without report)
	bucketReports   = []byte("hold_reports")   // id → report JSON
	bucketIndex     = []byte("hold_index")     // posting keys, see indexKey
	bucketDeadlines = []byte("hold_deadlines") // deadline(8) ‖ id → nil, held records only
	bucketPurge     = []byte("hold_purge")     // decided(8) ‖ id → nil, purgeable states only
	bucketCounts    = []byte("hold_counts")    // state or state/kind → uint64
	bucketTokens    = []byte("hold_tokens")    // sha256(token) → token JSON
	bucketTokenMsg  = []byte("hold_token_msg") // lp(id) ‖ hash → nil
	bucketTokenExp  = []byte("hold_token_exp") // expires(8) ‖ hash → nil
	bucketEvents    = []byte("audit_events")   // seq(8) → event JSON
	bucketEventMsg  = []byte("audit_by_msg")   // lp(id) ‖ seq(8) → nil
	bucketAuditMeta = []byte("audit_meta")     // "head" → seq(8) ‖ hash(32)
)

var allBuckets = [][]byte{
	bucketRecords, bucketReports, bucketIndex, bucketDeadlines, bucketPurge,
	bucketCounts, bucketTokens, bucketTokenMsg, bucketTokenExp, bucketEvents, bucketEventMsg, bucketAuditMeta,
}

var keyHead = []byte("head")

// Index fields: one byte each, first in every posting key.
const (
	fieldAll    byte = 'a' // every record, value ""
	fieldState  byte = 's'
	fieldKind   byte = 'k'
	fieldRule   byte = 'r'
	fieldSender byte = 'f'
	fieldDomain byte = 'd'
)

// lp is a 2-byte length prefix followed by s, so that no value is a prefix
// of another value's keys. Callers bound s to 65535 bytes.
func lp(dst []byte, s string) []byte {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

// postingPrefix is field ‖ lp(value); the keys below it are suffixes
// time(8) ‖ id ordered by creation time, then id.
func postingPrefix(field byte, value string) []byte {
	return lp([]byte{field}, value)
}

// timeID is t(8, big-endian unix nanoseconds) ‖ id.
func timeID(t time.Time, id string) []byte {
	b := make([]byte, 0, 8+len(id))
	b = binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
	return append(b, id...)
}

func timeKey(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
}

func splitTimeID(k []byte) (time.Time, string) {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), string(k[8:])
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// postings lists every index posting prefix a record appears under.
func postings(r *Record) [][]byte {
	p := [][]byte{
		postingPrefix(fieldAll, ""),
		postingPrefix(fieldState, string(r.State)),
		postingPrefix(fieldKind, string(r.Kind)),
	}
	if r.Sender != "" {
		p = append(p, postingPrefix(fieldSender, r.Sender))
	}
	for _, rule := range r.Decision.Rules {
		p = append(p, postingPrefix(fieldRule, rule))
	}
	for _, d := range r.Recipients.Domains {
		p = append(p, postingPrefix(fieldDomain, d))
	}
	return p
}

func concat(a, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}
