package templates

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/hold"
)

func TestWhyPerLanguageWithoutDuplicatesOrRawNames(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	rec := &hold.Record{Kind: hold.KindApprover, Decision: hold.Decision{
		Rules: []string{"pii-external", "hr-to-outside", "lookalike", "twin"},
		Localized: []hold.Reason{
			{Rule: "pii-external", JA: "個人情報です。", EN: "Personal data."},
			{Rule: "lookalike", JA: "似たドメインです。"}, // no English given
			{Rule: "twin", JA: "個人情報です。", EN: "Personal data."},
		},
	}}
	s := NewSummary(rec, nil)
	en := c.Why("en", s)
	wantEN := []string{"Personal data.", c.T("en", "why.kind.approver"), "似たドメインです。"}
	if !reflect.DeepEqual(en, wantEN) {
		t.Errorf("why(en) = %q, want %q", en, wantEN)
	}
	ja := c.Why("ja", s)
	wantJA := []string{"個人情報です。", c.T("ja", "why.kind.approver"), "似たドメインです。"}
	if !reflect.DeepEqual(ja, wantJA) {
		t.Errorf("why(ja) = %q, want %q", ja, wantJA)
	}
	for _, l := range append(en, ja...) {
		if strings.Contains(l, "hr-to-outside") {
			t.Errorf("raw rule name shown: %q", l)
		}
	}
	// A record stored before reasons were kept per language.
	old := &hold.Record{Kind: hold.KindReview, Decision: hold.Decision{Rules: []string{"x"}, Reasons: []string{"古い理由"}}}
	if got := c.Why("en", NewSummary(old, nil)); !reflect.DeepEqual(got, []string{c.T("en", "why.kind.review"), "古い理由"}) {
		t.Errorf("legacy why = %q", got)
	}
	// A built-in rule without a policy reason uses the catalog.
	if got := c.Why("ja", NewSummary(&hold.Record{Kind: hold.KindSender, Decision: hold.Decision{Rules: []string{"lookalike"}}}, nil)); !reflect.DeepEqual(got, []string{c.T("ja", "rule.lookalike")}) {
		t.Errorf("catalog rule = %q", got)
	}
}

func TestUnscannableInPlainWords(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for reason, key := range map[string]string{
		"unreadable PDF: not a PDF file: invalid header": "unscan.broken",
		"corrupt zip: zip: not a valid zip file":         "unscan.broken",
		"encrypted zip":                                  "unscan.encrypted",
		"encrypted Office document":                      "unscan.encrypted",
		"zip bomb: ratio 1000:1 over 100:1":              "unscan.limit",
		"time limit exceeded":                            "unscan.limit",
		"executable (application/x-msdownload)":          "unscan.executable",
		"unsupported format application/x-foo":           "unscan.format",
		"PDF has no extractable text":                    "unscan.no_text",
	} {
		for _, lang := range Languages() {
			got := c.Unscannable(lang, reason)
			if got != c.T(lang, key) {
				t.Errorf("%s %q = %q, want %s", lang, reason, got, key)
			}
			if strings.Contains(got, "PDF file") || strings.Contains(got, "zip:") {
				t.Errorf("Go error text reached the sender: %q", got)
			}
		}
	}
	f := c.Finding("ja", FindingView{Detector: "unscannable", Count: 1, Reason: "unreadable PDF: not a PDF file: invalid header"})
	if strings.Contains(f, "invalid header") || !strings.Contains(f, c.T("ja", "unscan.broken")) {
		t.Errorf("finding line = %q", f)
	}
}

func TestNaturalCompare(t *testing.T) {
	in := []string{"customer10.example", "customer2.example", "customer1.example", "a.example", "customer02.example", "b1", "b"}
	slices.SortFunc(in, NaturalCompare)
	want := []string{"a.example", "b", "b1", "customer1.example", "customer2.example", "customer02.example", "customer10.example"}
	if !reflect.DeepEqual(in, want) {
		t.Fatalf("sorted = %q", in)
	}
}

func TestMaskPreview(t *testing.T) {
	got := MaskPreview("山田様\r\nカード 4111-1111-1111-1111、電話 03-1234-5678、部屋 12。\r\n連絡先 yamada.taro@example.jp まで\x1b[31m", 200)
	want := "山田様\nカード ****-****-****-****、電話 **-****-****、部屋 12。\n連絡先 ***********@example.jp まで [31m"
	if got != want {
		t.Fatalf("MaskPreview =\n%q\nwant\n%q", got, want)
	}
	if got := MaskPreview("あいうえおかきくけこ", 5); got != "あいうえお…" {
		t.Fatalf("cut = %q", got)
	}
}
