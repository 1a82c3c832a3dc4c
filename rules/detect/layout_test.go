package detect

import (
	"slices"
	"strings"
	"testing"
)

// The misses and their neighbours, in every layout a table reaches
// the detectors as text.
func TestContextReinforcesInEveryLayout(t *testing.T) {
	mn := []string{"123456789018", "292202361448"}
	runDetCases(t, MyNumber, []detCase{
		{"docx table rows 1..n", "支払調書\n氏名\tマイナンバー\t支払金額\n山田 太郎\t2922-0236-1448\t120,000\n鈴木 花子\t123456789018\t80,000\n", mn},
		{"html table with empty cells", "No\t氏名\t部署\t個人番号\t備考\n1\t山田\t\t292202361448\t\n2\t\t\t123456789018\t\n", mn},
		{"space-aligned", "氏名        マイナンバー      住所\n山田太郎    292202361448      東京都\n鈴木花子    123456789018      大阪府\n", mn},
		{"全角スペース-aligned", "氏名　　　　個人番号　　　　　備考\n山田　太郎　292202361448\n鈴木　花子　123456789018\n", mn},
		{"key/value rows", "氏名\t山田 太郎\nマイナンバー\t292202361448\n", mn[1:]},
		{"order column vetoes", "注文番号\t商品\n123456789018\tA4用紙\n292202361448\tトナー\n", nil},
		{"header ends at prose", "氏名\tマイナンバー\n山田\t292202361448\n\n以上です。123456789018 は受付番号です。\n", mn[1:]},
		{"label then value lines below", "マイナンバーをお送りします。\nよろしくお願いします。\n\n本人：292202361448\n", mn[1:]},
		{"full-width digits and dashes", "個人番号：２９２２－０２３６－１４４８", mn[1:]},
		{"minus sign and prolonged mark", "マイナンバー 2922−0236ー1448", mn[1:]},
	})
}

func TestTableLabelCellLeft(t *testing.T) {
	e := newTestEngine(t, Config{})
	csv := "氏名,山田 太郎\nマイナンバー,292202361448\n注文番号,123456789018\n"
	if got := valuesOf(e, csv, true, MyNumber); !slices.Equal(got, []string{"292202361448"}) {
		t.Errorf("key/value CSV: %q", got)
	}
}

func TestJapaneseIdentifiers(t *testing.T) {
	t.Run("pension", func(t *testing.T) {
		runDetCases(t, Pension, []detCase{
			{"grouped", "基礎年金番号：1234-567890", []string{"1234567890"}},
			{"run", "年金手帳の番号 0123456789 をご確認ください", []string{"0123456789"}},
			{"no context", "1234-567890", nil},
			{"phone shape with phone context", "電話 03-1234-5678", nil},
		})
	})
	t.Run("residence card", func(t *testing.T) {
		runDetCases(t, ResidenceCard, []detCase{
			{"plain", "在留カード番号：AB12345678CD", []string{"AB12345678CD"}},
			{"full-width", "在留カード　ＡＢ１２３４５６７８ＣＤ", []string{"AB12345678CD"}},
			{"no context", "型式 AB12345678CD", nil},
			{"longer code", "在留カード XAB12345678CD", nil},
		})
	})
	t.Run("juminhyo", func(t *testing.T) {
		valid := validJuminhyo("1234567890")
		runDetCases(t, JuminhyoCode, []detCase{
			{"labelled", "住民票コード：" + valid, []string{valid}},
			{"check digit fails", "住民票コード：" + valid[:10] + string('0'+(valid[10]-'0'+1)%10), nil},
			{"no context", valid, nil},
		})
	})
	t.Run("health insurance", func(t *testing.T) {
		runDetCases(t, HealthInsurance, []detCase{
			{"insurer", "保険者番号 33120015", []string{"33120015"}},
			{"insurer check fails", "保険者番号 33120016", nil},
			{"national", "保険者番号：138057", luhnOnly("138057")},
			{"insured", "被保険者証 記号 1234567 番号 12", []string{"1234567"}},
			{"insured, six digits", "被保険者証 記号 123456", []string{"123456"}},
			{"national, full-width", "保険者番号　" + fullWidthDigits(luhnOnlyOr("138057", "138059")), []string{luhnOnlyOr("138057", "138059")}},
			{"six digits with no context", "受付 138057 件", nil},
			{"no context", "33120015", nil},
			{"a phone next to 保険証", "保険証 0312345678", nil},
		})
	})
}

func luhnOnlyOr(a, b string) string {
	if luhnValid([]byte(a)) {
		return a
	}
	return b
}

func fullWidthDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

func luhnOnly(v string) []string {
	if luhnValid([]byte(v)) {
		return []string{v}
	}
	return nil
}

func validJuminhyo(ten string) string {
	for c := byte('0'); c <= '9'; c++ {
		if v := ten + string(c); juminhyoValid([]byte(v)) {
			return v
		}
	}
	panic("no check digit")
}

func TestWhyExplainsWithoutValues(t *testing.T) {
	e := newTestEngine(t, Config{})
	for _, c := range []struct{ text, want string }{
		{"マイナンバー：292202361448", "check digit ok; context word 「マイナンバー」 1 chars before"},
		{"氏名\t個人番号\n山田\t292202361448\n", "check digit ok; column header 「個人番号」"},
		{"2922-0236-1448", "check digit ok; printed grouping, no contrary label"},
		{"123456789018\n847080269628\n", "check digit ok; list of 2 checksum-valid values"},
	} {
		h, ok := e.Scan([]byte(c.text), false).Hit(MyNumber)
		if !ok || !slices.Contains(h.Why, c.want) {
			t.Errorf("%q: why %q, want %q", c.text, h.Why, c.want)
		}
		for _, w := range h.Why {
			for _, v := range h.Values {
				if strings.Contains(w, v) || strings.Contains(w, v[:4]) {
					t.Errorf("why %q shows the value", w)
				}
			}
		}
	}
}

func TestSecondHeaderNamesColumnsBelow(t *testing.T) {
	e := newTestEngine(t, Config{})
	sheets := "氏名\t住所\t電話\n山田\t東京都港区1-1\t090-1111-2222\n氏名\t個人番号\t金額\n山田\t292202361448\t1000\n"
	if got := valuesOf(e, sheets, true, MyNumber); !slices.Equal(got, []string{"292202361448"}) {
		t.Errorf("table: %q", got)
	}
	if got := valuesOf(e, sheets, false, MyNumber); !slices.Equal(got, []string{"292202361448"}) {
		t.Errorf("prose: %q", got)
	}
}

func TestDocumentedExamplesAreNotData(t *testing.T) {
	runDetCases(t, CreditCard, []detCase{
		{"test card after its label", "テスト用のカード番号：4111 1111 1111 1111 をご利用ください", nil},
		{"sample marker after", "カード番号 4242 4242 4242 4242（サンプル）", nil},
		{"real card", "カード番号：4111 1111 1111 1111 有効期限 12/28", []string{"4111111111111111"}},
		{"a company named サンプル", "㈱サンプル商事 経理部\nクレジットカード: 4111 1111 1111 1111", []string{"4111111111111111"}},
		{"a test result is not an example", "テストの結果、次のカードで決済できませんでした 4111 1111 1111 1111", []string{"4111111111111111"}},
	})
	runDetCases(t, MyNumber, []detCase{
		{"記入例", "記入例）個人番号：1234 5678 9018", nil},
		{"real", "個人番号：1234 5678 9018", []string{"123456789018"}},
	})
}

func TestColumnsOfGroupedNumbers(t *testing.T) {
	// Two 4-4-4 columns side by side: a two-space gap is a column, not a
	// grouping, so neither number is a cut-out window.
	runDetCases(t, MyNumber, []detCase{
		{"two columns", "本人  配偶者\n個人番号 2922 0236 1448  1234 5678 9018\n", []string{"123456789018", "292202361448"}},
		{"one run of groups", "個人番号 2922 0236 1448 1234 5678 9018\n", nil},
	})
	e := newTestEngine(t, Config{})
	transposed := "項目,本人,配偶者\nマイナンバー,292202361448,123456789018\n"
	if got := valuesOf(e, transposed, true, MyNumber); !slices.Equal(got, []string{"123456789018", "292202361448"}) {
		t.Errorf("transposed table: %q", got)
	}
}

func TestLabelOnTheNextLine(t *testing.T) {
	runDetCases(t, MyNumber, []detCase{
		{"label after", "123456789018\n（上記は本人のマイナンバーです）", []string{"123456789018"}},
		{"label of the next value", "受付 123456789018\nマイナンバー：292202361448", []string{"292202361448"}},
	})
}

func TestMoreContraryLabels(t *testing.T) {
	runDetCases(t, MyNumber, []detCase{
		{"customer number", "お客様番号：1234-5678-9018", nil},
		{"carrier", "ヤマト運輸 1234-5678-9018 でお届けします", nil},
		{"example", "例：1234 5678 9018", nil},
	})
	runDetCases(t, CreditCard, []detCase{
		{"example", "（例）4111 1111 1111 1111", nil},
		{"e.g.", "e.g. 4111 1111 1111 1111", nil},
	})
}

func TestConfidence(t *testing.T) {
	e := newTestEngine(t, Config{})
	for _, c := range []struct{ det, text, want string }{
		{MyNumber, "マイナンバー：292202361448", "high"},
		{MyNumber, "2922-0236-1448", "medium"},
		{MyNumber, "123456789018\n847080269628\n", "medium"},
		{JPPhone, "TEL 03-1234-5678", "high"},
		{JPPhone, "03-1234-5678", "medium"},
		{Pension, "基礎年金番号 1234-567890", "medium"},
		{EmailAddress, "taro@example.co.jp", "high"},
	} {
		h, _ := e.Scan([]byte(c.text), false).Hit(c.det)
		if h.Confidence != c.want {
			t.Errorf("%s in %q: confidence %q, want %q (why %q)", c.det, c.text, h.Confidence, c.want, h.Why)
		}
	}
}

func TestCardPaysAnOrder(t *testing.T) {
	runDetCases(t, CreditCard, []detCase{
		{"order topic", "ご注文のお支払いは 4111 1111 1111 1111 でお願いします", []string{"4111111111111111"}},
		{"order label", "注文番号：4111111111111111", nil},
	})
}
