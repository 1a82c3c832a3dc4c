package templates

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

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
