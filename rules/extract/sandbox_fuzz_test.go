package extract

import (
	"bytes"
	"testing"
)

// FuzzParseAnswer: a worker is parsing hostile input and may be subverted,
// so its answer is untrusted too. Parsing must not panic, must accept only
// known statuses and must round-trip what writeAnswer wrote.
func FuzzParseAnswer(f *testing.F) {
	var b bytes.Buffer
	_ = writeAnswer(&b, answer{status: statusText, truncated: true, inflated: 99, payload: []byte("テキスト")})
	f.Add(b.Bytes())
	f.Add([]byte("SGX1E\x00\x00\x00\x00\x00\x00\x00\x00\x00boom"))
	f.Add([]byte("SGX1T\x01\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseAnswer(data, false)
		if err != nil {
			return
		}
		switch a.status {
		case statusText, statusEncrypted, statusLimit, statusError:
		default:
			t.Fatalf("accepted status %q", a.status)
		}
		if a.inflated < 0 {
			t.Fatalf("negative inflated count %d", a.inflated)
		}
		var again bytes.Buffer
		if err := writeAnswer(&again, *a); err != nil {
			t.Fatal(err)
		}
		if b, err := parseAnswer(again.Bytes(), false); err != nil || b.status != a.status || b.inflated != a.inflated ||
			b.truncated != a.truncated || !bytes.Equal(b.payload, a.payload) {
			t.Fatalf("round trip: %+v -> %+v, %v", a, b, err)
		}
	})
}
