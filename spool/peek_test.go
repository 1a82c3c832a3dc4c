package spool

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// peekCases are encoded records, as stored and as they might be.
func peekCases() [][]byte {
	now := time.Date(2026, 12, 6, 12, 43, 7, 268083797, time.UTC)
	q, done := deliveredRecord("33QANCR7CD0ZZ7XEABVYR", now)
	var out [][]byte
	for _, r := range []*Record{q, done, {ID: "X", State: StateHeld}, {}} {
		v, _ := json.Marshal(r)
		var ind bytes.Buffer
		json.Indent(&ind, v, " ", "\t")
		out = append(out, v, ind.Bytes())
	}
	return append(out,
		[]byte(`{"report":{"state":"held","next_attempt":"2020-01-01T00:00:00Z"},"state":"queued"}`),
		[]byte(`{"state":"queued","steps":[{"next_attempt":"2020-01-01T00:00:00Z","x":"}]\"{"}]}`),
		[]byte(`{"state":"queued","state":"held"}`),
		[]byte(`{"State":"held"}`),
		[]byte(`{"st\u0061te":"held"}`),
		[]byte(`{"state":"q\u0075eued"}`),
		[]byte(`{"state":null,"next_attempt":null}`),
		[]byte(`{"state":5}`),
		[]byte(`{"next_attempt":"not a time"}`),
		[]byte(`{"a":[1,true,null,-2.5e3,{"b":"\\"}],"state":"queued" }`),
		[]byte("{\"state\":\"\xff\"}"),
		[]byte(`[]`),
		[]byte(`{}`),
		[]byte(`{"state":"queued"`),
		[]byte(`{"state":"queued"}x`),
	)
}

// peekMatches checks peekIndexed against encoding/json on v: whenever it
// answers, it answers what encoding/json decodes from valid JSON.
func peekMatches(t *testing.T, v []byte) {
	t.Helper()
	p, ok := peekIndexed(v)
	var want indexed
	err := json.Unmarshal(v, &want)
	if !ok {
		return
	}
	if !json.Valid(v) {
		return // the caller only ever peeks at what json.Marshal wrote
	}
	if err != nil || p.State != want.State || !p.NextAttempt.Equal(want.NextAttempt) {
		t.Fatalf("peek %q = %+v, encoding/json %+v (%v)", v, p, want, err)
	}
}

func TestPeekIndexed(t *testing.T) {
	for _, v := range peekCases() {
		peekMatches(t, v)
	}
	// What the stored records look like is what peeking must cover.
	now := time.Now()
	q, done := deliveredRecord(NewID(), now)
	for _, r := range []*Record{q, done} {
		v, _ := json.Marshal(r)
		p, ok := peekIndexed(v)
		if !ok || p.State != r.State || !p.NextAttempt.Equal(r.NextAttempt) {
			t.Fatalf("peek of a stored record: %+v %v", p, ok)
		}
	}
	for _, v := range [][]byte{[]byte(`{"State":"held"}`), []byte(`{"st\u0061te":"held"}`), []byte("{\"state\":\"\xff\"}")} {
		if _, ok := peekIndexed(v); ok {
			t.Errorf("peek of %q should leave it to encoding/json", v)
		}
	}
	if p, err := decodeIndexed("X", []byte(`{"State":"held"}`)); err != nil || p.State != StateHeld {
		t.Errorf("decodeIndexed fallback: %+v %v", p, err)
	}
}

func FuzzPeekIndexed(f *testing.F) {
	for _, v := range peekCases() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v []byte) { peekMatches(t, v) })
}
