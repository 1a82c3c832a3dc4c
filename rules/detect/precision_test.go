package detect

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// randomDigits returns n random digits; the first is never 0 unless zeroOK.
func randomDigits(rng *rand.Rand, n int) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = byte('0' + rng.IntN(10))
	}
	return d
}

// About one random 12-digit number in ten passes the My Number check; none
// may be reported without context or with an order/tracking context.
func TestMyNumberPrecisionOnRandomNumbers(t *testing.T) {
	e := newTestEngine(t, Config{})
	rng := rand.New(rand.NewPCG(7, 7))
	var plain, order, tracking strings.Builder
	valid := 0
	for range 2000 {
		d := randomDigits(rng, 12)
		if myNumberValid(d) {
			valid++
		}
		fmt.Fprintf(&plain, "番号 %s の件、承知しました。\n", d)
		fmt.Fprintf(&order, "注文番号：%s-%s-%s\n", d[:4], d[4:8], d[8:])
		fmt.Fprintf(&tracking, "お問い合わせ番号 %s %s %s にて配送状況をご確認ください。\n", d[:4], d[4:8], d[8:])
	}
	if valid < 100 {
		t.Fatalf("only %d of 2000 random numbers pass the check digit; the test is not testing", valid)
	}
	for name, text := range map[string]string{"plain": plain.String(), "order": order.String(), "tracking": tracking.String()} {
		if h, ok := e.Scan([]byte(text), false).Hit(MyNumber); ok {
			t.Errorf("%s: %d false My Numbers, e.g. %v", name, h.Count, h.Samples)
		}
	}
}

func TestCardPrecisionOnOrderNumbers(t *testing.T) {
	e := newTestEngine(t, Config{})
	rng := rand.New(rand.NewPCG(8, 8))
	var sb strings.Builder
	for range 2000 {
		d := randomDigits(rng, 16)
		fmt.Fprintf(&sb, "Order %s shipped; 注文番号 %s-%s-%s-%s\n", d, d[:4], d[4:8], d[8:12], d[12:])
	}
	if h, ok := e.Scan([]byte(sb.String()), false).Hit(CreditCard); ok {
		t.Errorf("%d order numbers reported as cards, e.g. %v", h.Count, h.Samples)
	}
}

// Business prose with no personal data must stay silent.
func TestProseHardNegatives(t *testing.T) {
	e := newTestEngine(t, Config{Disabled: []string{Keyword}})
	text := strings.Join(proseLines, "\n") + `
日時：2024-11-23 10:15:30、タイムスタンプ 20241123101530、Unix時間 1732356930
IPアドレス 10.0.12.255 / 2001:db8::1 / ポート 8080、バージョン 1.2.3-rc.4、ビルド 20241123.1
請求書番号 INV-202411-0001、見積番号 Q-2024-001234、品番 090-1234-5678X、型番 ABC-0312345678
ヤマト運輸 伝票番号 4697-2452-1234、お問い合わせ番号 123456789018
金額 1,234,567,890,123円、数量 12,345,678 個、単価 ¥1234567
ISBN 978-4-10-109205-8、JAN 4901234567894、シリアル SN12345678901234
部屋番号 1203、内線 1234、社員番号 20240001、会員番号 1234-5678-9012-3456
座標 35.681236, 139.767125、電話帳アプリ v10.2.3
`
	if hs := e.Scan([]byte(text), false).Hits(); len(hs) != 0 {
		for _, h := range hs {
			t.Errorf("false positive %s: %v", h.Detector, h.Values)
		}
	}
}

// A list of 1,200 people is a reportable leak: every row is a record.
func TestCustomerListVolume(t *testing.T) {
	e := newTestEngine(t, Config{})
	csv := genCustomerCSV(1200, 9)
	r := e.Scan(csv, true)
	if !r.CustomerList || r.Rows != 1200 || r.Records != 1200 || r.Lines != 1200 {
		t.Fatalf("customer %v rows %d records %d lines %d", r.CustomerList, r.Rows, r.Records, r.Lines)
	}
	for _, det := range []string{JPPhone, EmailAddress, JPAddress, PostalCode} {
		h, ok := r.Hit(det)
		if !ok || h.Records != 1200 {
			t.Errorf("%s: count %d records %d", det, h.Count, h.Records)
		}
	}
	if h, _ := r.Hit(EmailAddress); h.Count != 1200 {
		t.Errorf("distinct e-mails %d, want 1200", h.Count)
	}
}

func TestConcurrentScans(t *testing.T) {
	e := newTestEngine(t, Config{})
	text := genProse(64<<10, 5)
	want := fmt.Sprint(e.Scan(text, false).Hits())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if got := fmt.Sprint(e.Scan(text, false).Hits()); got != want {
					t.Error("concurrent scan differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

// A list pasted into a mail body counts by lines.
func TestProseListLines(t *testing.T) {
	e := newTestEngine(t, Config{})
	var sb strings.Builder
	sb.WriteString("【社外秘】顧客一覧です。\n\n")
	for i := range 60 {
		fmt.Fprintf(&sb, "%d. 山田%d様 090-%04d-1234 / user%d@example.jp\n", i+1, i, 1000+i, i)
		if i%10 == 0 {
			sb.WriteString("----\n")
		}
	}
	want := e.Scan([]byte(sb.String()), false)
	if want.Lines != 60 || want.Records != 0 {
		t.Errorf("lines %d records %d, want 60 0", want.Lines, want.Records)
	}
	d := e.NewDocument(false)
	for b := []byte(sb.String()); len(b) > 0; b = b[min(13, len(b)):] {
		d.Write(b[:min(13, len(b))])
	}
	if got := d.Result().Lines; got != 60 {
		t.Errorf("chunked: lines %d, want 60", got)
	}
}
