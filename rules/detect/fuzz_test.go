package detect

import (
	"fmt"
	"strings"
	"testing"
)

// maxSampleBytes bounds a masked sample: the longest is an e-mail with a
// 253-byte domain; an address is at most maxAddressRunes of 3 bytes.
const maxSampleBytes = 4 + 1 + maxDomainRunes

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"マイナンバー 1234-5678-9018", "〒100-0001 東京都千代田区千代田1-1", "+81 90-1234-5678",
		"ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "カード 4111 1111 1111 1111", "旅券 TK1234567",
		"氏名,電話\n山田,\"090\n1234\",5678\n", "T4011001098993", "\xef\xbc", "1234\xe3\x80", "＠", "㊙",
		"a@\xff.com", strings.Repeat("1 ", 200),
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	e, err := New(Config{RetainValues: true, MaxSamples: 4, MaxValues: 50})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte, tabular bool) {
		r := e.Scan(text, tabular)
		// Chunked scanning must not panic either and finds the same.
		d := e.NewDocument(tabular)
		for b := text; len(b) > 0; {
			n := min(7, len(b))
			d.Write(b[:n])
			b = b[n:]
		}
		got := d.Result()
		if fmt.Sprint(got.Hits()) != fmt.Sprint(r.Hits()) || got.Rows != r.Rows ||
			got.Records != r.Records || got.Lines != r.Lines || got.CustomerList != r.CustomerList {
			t.Errorf("chunked scan differs:\n got %+v %d %d %d\nwant %+v %d %d %d", got.Hits(),
				got.Rows, got.Records, got.Lines, r.Hits(), r.Rows, r.Records, r.Lines)
		}
		for _, h := range r.Hits() {
			if h.Count <= 0 || len(h.Samples) > 4 || len(h.Values) > 50 || len(h.Values) > h.Count {
				t.Fatalf("unbounded or inconsistent hit %+v", h)
			}
			for i, s := range h.Samples {
				if len(s) > maxSampleBytes && h.Detector != Keyword {
					t.Errorf("%s sample too long: %q", h.Detector, s)
				}
				if h.Detector == Keyword {
					continue
				}
				if i < len(h.Values) && s == h.Values[i] {
					t.Errorf("%s sample %q equals its value", h.Detector, s)
				}
				if !strings.Contains(s, "*") {
					t.Errorf("%s sample %q not masked", h.Detector, s)
				}
			}
		}
		if r.Records > r.Rows {
			t.Errorf("records %d > rows %d", r.Records, r.Rows)
		}
	})
}
