package worker

import (
	"bytes"
	"testing"
)

// FuzzParseAnswer: a worker is parsing hostile input and may be subverted,
// so its answer is untrusted too. Parsing must not panic, must accept only
// known statuses and must round-trip what WriteAnswer wrote.
func FuzzParseAnswer(f *testing.F) {
	var b bytes.Buffer
	_ = WriteAnswer(&b, Answer{Status: StatusText, Truncated: true, Inflated: 99, Payload: []byte("テキスト")})
	f.Add(b.Bytes())
	f.Add([]byte("SGX1E\x00\x00\x00\x00\x00\x00\x00\x00\x00boom"))
	f.Add([]byte("SGX1T\x01\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAnswer(data, false)
		if err != nil {
			return
		}
		switch a.Status {
		case StatusText, StatusEncrypted, StatusLimit, StatusError:
		default:
			t.Fatalf("accepted status %q", a.Status)
		}
		if a.Inflated < 0 {
			t.Fatalf("negative inflated count %d", a.Inflated)
		}
		var again bytes.Buffer
		if err := WriteAnswer(&again, *a); err != nil {
			t.Fatal(err)
		}
		if b, err := ParseAnswer(again.Bytes(), false); err != nil || b.Status != a.Status || b.Inflated != a.Inflated ||
			b.Truncated != a.Truncated || !bytes.Equal(b.Payload, a.Payload) {
			t.Fatalf("round trip: %+v -> %+v, %v", a, b, err)
		}
	})
}
