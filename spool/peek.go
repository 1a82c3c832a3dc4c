package spool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// peekIndexed reads what the indexes hold of an encoded record (its state
// and next attempt) in one pass over its top-level keys, skipping every
// other value without decoding it: the recipients, report and decision
// that make up most of a record cost encoding/json a full scan and
// decode. ok is false for anything it does not expect (a key with an
// escape or in another case, a malformed value), and the caller then
// decodes with encoding/json, which also reports errors.
func peekIndexed(v []byte) (p indexed, ok bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return p, false
	}
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == '}' {
		return p, true
	}
	for {
		if i >= len(v) || v[i] != '"' {
			return p, false
		}
		end := skipString(v, i)
		if end < 0 {
			return p, false
		}
		key := v[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return p, false
		}
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ':' {
			return p, false
		}
		i = skipSpace(v, i+1)
		vend := skipValue(v, i)
		if vend < 0 {
			return p, false
		}
		val := v[i:vend]
		switch string(key) {
		case "state":
			// A JSON string without escapes, as State values are
			// (encoding/json would replace invalid UTF-8).
			if len(val) < 2 || val[0] != '"' || bytes.IndexByte(val, '\\') >= 0 || !utf8.Valid(val) {
				return p, false
			}
			p.State = State(val[1 : len(val)-1])
		case "next_attempt":
			var t time.Time
			if err := t.UnmarshalJSON(val); err != nil {
				return p, false
			}
			p.NextAttempt = t
		default:
			// encoding/json matches keys without regard to case: leave
			// such a record to it.
			if bytes.EqualFold(key, []byte("state")) || bytes.EqualFold(key, []byte("next_attempt")) {
				return p, false
			}
		}
		i = skipSpace(v, vend)
		if i >= len(v) {
			return p, false
		}
		switch v[i] {
		case ',':
			i = skipSpace(v, i+1)
		case '}':
			return p, skipSpace(v, i+1) == len(v)
		default:
			return p, false
		}
	}
}

// decodeIndexed is peekIndexed, falling back to encoding/json.
func decodeIndexed(id string, v []byte) (indexed, error) {
	if p, ok := peekIndexed(v); ok {
		return p, nil
	}
	var p indexed
	if err := json.Unmarshal(v, &p); err != nil {
		return indexed{}, fmt.Errorf("decode record %s: %w", id, err)
	}
	return p, nil
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at v[i] == '"',
// or -1 if it does not end.
func skipString(v []byte, i int) int {
	for i++; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at v[i], or -1.
// Objects and arrays are skipped by their brackets outside strings, a
// literal or number up to the next delimiter.
func skipValue(v []byte, i int) int {
	if i >= len(v) {
		return -1
	}
	switch v[i] {
	case '"':
		return skipString(v, i)
	case '{', '[':
		depth := 0
		for i < len(v) {
			switch v[i] {
			case '"':
				i = skipString(v, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(v) {
		switch v[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	return -1
}
