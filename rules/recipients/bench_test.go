package recipients

import (
	"fmt"
	"strings"
	"testing"
)

// bigInput is a 1,000-recipient message: 400 visible in To (internal and
// partner), 100 in Cc with Japanese display names, 500 Bcc-only over 50
// external domains, a few of them look-alikes.
func bigInput() Input {
	var to, cc []string
	var env []string
	for i := range 400 {
		dom := "example.com"
		if i%2 == 1 {
			dom = "partner.co.jp"
		}
		a := fmt.Sprintf("user%d@%s", i, dom)
		to = append(to, fmt.Sprintf("User %d <%s>", i, a))
		env = append(env, "<"+a+">")
	}
	for i := range 100 {
		a := fmt.Sprintf("cc%d@client%d-corp.net", i, i%10)
		cc = append(cc, "=?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= <"+a+">")
		env = append(env, "<"+a+">")
	}
	for i := range 500 {
		dom := fmt.Sprintf("customer%d.jp", i%50)
		if i%100 == 0 {
			dom = "exarnple.com"
		}
		env = append(env, fmt.Sprintf("<bcc%d@%s>", i, dom))
	}
	return Input{
		From:     "Sales <sales@example.com>",
		To:       []string{strings.Join(to, ", ")},
		Cc:       []string{strings.Join(cc, ",\r\n ")},
		Envelope: env,
	}
}

func benchAnalyzer(b *testing.B) *Analyzer {
	an, err := New(Config{
		InternalDomains: []string{"example.com", "*.example.com"},
		PartnerDomains:  []string{"partner.co.jp", "partner2.com", "vendor.jp", "supplier.co.jp", "bank.example.jp"},
	}, NewMemoryHistory("client1-corp.net", "customer1.jp"))
	if err != nil {
		b.Fatal(err)
	}
	return an
}

func BenchmarkAnalyze1000(b *testing.B) {
	an := benchAnalyzer(b)
	in := bigInput()
	res := an.Analyze(in)
	if r := res.Recipients; r.Total != 1000 || len(r.Lookalike) != 5 || len(res.Errors) != 0 {
		b.Fatalf("total %d, lookalikes %d, errors %v", r.Total, len(r.Lookalike), res.Errors)
	}
	b.ReportAllocs()
	for b.Loop() {
		an.Analyze(in)
	}
}

// BenchmarkParseList1000 is the baseline for BenchmarkAnalyze1000: parsing
// the same headers with no classification.
func BenchmarkParseList1000(b *testing.B) {
	in := bigInput()
	b.ReportAllocs()
	for b.Loop() {
		ParseList(in.To[0])
		ParseList(in.Cc[0])
		for _, e := range in.Envelope {
			ParseEnvelope(e)
		}
	}
}

func BenchmarkLookalikeCheck(b *testing.B) {
	c := NewLookalikeChecker("example.com", "partner.co.jp", "partner2.com", "vendor.jp", "supplier.co.jp", "bank.example.jp")
	domains := []string{"exarnple.com", "customer7.jp", "xn--xample-2of.com", "google.com", "example.com.evil.net"}
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range domains {
			c.Check(d)
		}
	}
}
