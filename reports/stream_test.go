package reports

import (
	"bytes"
	"encoding/binary"
	"net/http/httptest"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestStreamRoundTrip(t *testing.T) {
	s := openDB(t)
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	put(t, s, &Report{QueueID: "OLD", Time: base, Actions: []string{"deliver"}},
		&Report{QueueID: "NEW", Time: base.Add(48 * time.Hour), Sender: "a@example.com", Actions: []string{"hold_review"}, Rules: []string{"pii"}})
	// A record that does not decode is counted, not fatal.
	s.DB.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).Put(key(base.Add(72*time.Hour), "BAD"), []byte{version1, 9})
	})

	rec := httptest.NewRecorder()
	Handler(s).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/reports?since="+base.Add(time.Hour).Format(time.RFC3339), nil))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got []*Report
	corrupt, err := ReadStream(bytes.NewReader(rec.Body.Bytes()), func(r *Report) error { got = append(got, r); return nil })
	if err != nil || corrupt != 1 || len(got) != 1 || got[0].QueueID != "NEW" || got[0].Rules[0] != "pii" {
		t.Fatalf("read: %v, %d corrupt, %+v", err, corrupt, got)
	}

	// A truncated stream is an error, not a short success.
	if _, err := ReadStream(bytes.NewReader(rec.Body.Bytes()[:len(rec.Body.Bytes())-1]), func(*Report) error { return nil }); err == nil {
		t.Fatal("truncated stream accepted")
	}
	huge := binary.AppendUvarint(nil, maxRecord+1)
	if _, err := ReadStream(bytes.NewReader(huge), func(*Report) error { return nil }); err == nil {
		t.Fatal("oversized record accepted")
	}

	rec = httptest.NewRecorder()
	Handler(s).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/reports?since=yesterday", nil))
	if rec.Code != 400 {
		t.Fatalf("bad since: %d", rec.Code)
	}
}
