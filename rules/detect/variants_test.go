package detect

import (
	"strings"
	"testing"
)

// Every dash and space variant joins digit groups for every numeric detector.
func TestSeparatorVariants(t *testing.T) {
	dashes := []string{"-", "‐", "‑", "‒", "–", "—", "―", "−", "ー", "ｰ", "－", "﹣"}
	spaces := []string{" ", "\u3000", "\u00a0", " - ", "　－　"}
	e := newTestEngine(t, Config{})
	cases := []struct {
		det, label string
		groups     []string
		want       string
	}{
		{MyNumber, "マイナンバー", []string{"1234", "5678", "9018"}, "123456789018"},
		{CreditCard, "カード", []string{"4111", "1111", "1111", "1111"}, "4111111111111111"},
		{JPPhone, "電話", []string{"090", "1234", "5678"}, "09012345678"},
		{PostalCode, "〒", []string{"100", "0001"}, "1000001"},
		{CorporateNumber, "法人番号", []string{"7", "0000", "1205", "0002"}, "7000012050002"},
	}
	for _, c := range cases {
		for _, sep := range append(dashes, spaces...) {
			for _, fullWidth := range []bool{false, true} {
				num := strings.Join(c.groups, sep)
				if fullWidth {
					num = toFullWidthDigits(num)
				}
				text := c.label + "：" + num + "。"
				got := valuesOf(e, text, false, c.det)
				if len(got) != 1 || got[0] != c.want {
					t.Errorf("%s in %q: got %q, want %q", c.det, text, got, c.want)
				}
			}
		}
	}
}

func toFullWidthDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

// Codes, versions, addresses and times that look numeric are not personal data.
func TestCodeShapedNegatives(t *testing.T) {
	e := newTestEngine(t, Config{Disabled: []string{Keyword}})
	for _, text := range []string{
		"550e8400-e29b-41d4-a716-446655440000",
		"d41d8cd98f00b204e9800998ecf8427e",
		"2024-11-23T10:00:00+09:00",
		"20241123-123456",
		"https://example.com/orders/123456789018?id=4111111111111111",
		"C:\\data\\090-1234-5678.csv",
		"ver 3.14.159265358979",
		"1234-5678-9012-3456-7890",
		"価格 ¥4,111,111,111,111,111",
		"第1234567890123号",
	} {
		if hs := e.Scan([]byte(text), false).Hits(); len(hs) != 0 {
			t.Errorf("%q: unexpected %s %v", text, hs[0].Detector, hs[0].Values)
		}
	}
}
