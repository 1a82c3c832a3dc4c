package address

import (
	"strings"
	"testing"
)

var benchAddrs = []string{
	"yamada.taro@example.co.jp", "sales+jp@partner.example", "x@example.com@evil.example",
	"山田@例え.jp", "john doe@example.com", "a@[192.0.2.1]",
}

// BenchmarkFromSMTP is the cost per RCPT of the shared parser.
func BenchmarkFromSMTP(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		FromSMTP(benchAddrs[i%len(benchAddrs)])
	}
}

// BenchmarkBaselineSplit is the check the session did before: a length
// limit, a split at the last '@' and a scan for control characters. It is
// the baseline FromSMTP is compared with.
func BenchmarkBaselineSplit(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		a := benchAddrs[i%len(benchAddrs)]
		at := strings.LastIndexByte(a, '@')
		ok := len(a) <= 320 && at > 0 && at < len(a)-1
		for _, c := range a {
			if c <= ' ' || c == 0x7f || c == '<' || c == '>' {
				ok = false
			}
		}
		_ = ok
	}
}
