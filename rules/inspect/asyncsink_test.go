package inspect

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// The writes reach write in order and whole, inline below asyncFrom and
// from a goroutine past it; finish waits for the last.
func TestAsyncWriterOrder(t *testing.T) {
	defer func(n int64) { asyncFrom = n }(asyncFrom)
	asyncFrom = 100
	var got [][]byte
	a := &asyncWriter{write: func(p []byte) { got = append(got, bytes.Clone(p)) }}
	var want [][]byte
	buf := make([]byte, 200<<10)
	for i := range 300 {
		p := buf[:1+i*617%len(buf)]
		for j := range p {
			p[j] = byte(i + j)
		}
		want = append(want, bytes.Clone(p))
		a.Write(p) // the caller reuses buf at once
	}
	if a.queue == nil {
		t.Fatal("never went to a goroutine")
	}
	a.finish()
	a.finish() // idempotent
	if len(got) != len(want) {
		t.Fatalf("%d writes passed on, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("write %d differs", i)
		}
	}
}

// A panic of the scanning goroutine is raised by finish, on the caller's
// goroutine, and the writes after it never block.
func TestAsyncWriterPanic(t *testing.T) {
	defer func(n int64) { asyncFrom = n }(asyncFrom)
	asyncFrom = 1
	a := &asyncWriter{write: func(p []byte) {
		if p[0] == 3 {
			panic("detector bug")
		}
	}}
	for i := range 50 {
		a.Write([]byte{byte(i)})
	}
	defer func() {
		if p := recover(); p != "detector bug" {
			t.Fatalf("recovered %v, want the goroutine's panic", p)
		}
	}()
	a.finish()
	t.Fatal("finish did not raise the panic")
}

// bigMail is a mail whose body and Shift_JIS CSV attachment each carry
// more text than the test's asyncFrom, with personal data in both.
func bigMail(t *testing.T) string {
	var csv strings.Builder
	csv.WriteString("氏名,電話番号,住所,カード番号,メール\r\n")
	for i := range 3000 {
		fmt.Fprintf(&csv, "山田 太郎%d,090-%04d-%04d,東京都千代田区丸の内%d-%d-%d,4111 1111 1111 1111,user%d@mail.example.jp\r\n",
			i, 1000+i%9000, 2000+i%8000, i%9+1, i%7+1, i%5+1, i)
	}
	sjis, err := japanese.ShiftJIS.NewEncoder().String(csv.String())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nTo: x@partner.test\r\nSubject: 顧客一覧\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "お客様%d 03-%04d-%04d 社外秘 マイナンバー 1234 5678 9018\r\n", i, i%10000, (i*7)%10000)
	}
	b.WriteString("--b\r\nContent-Type: text/csv; charset=Shift_JIS\r\nContent-Disposition: attachment; filename=list.csv\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(sjis))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return b.String()
}

// Scanned on a goroutine or inline, a part gives the same report: the
// detectors, the exact data match and the kept text see the same writes.
func TestAsyncSinkSameReport(t *testing.T) {
	defer func(n int64) { asyncFrom = n }(asyncFrom)
	in, err := New(Config{InternalDomains: []string{"example.com"}, PartnerDomains: []string{"partner.test"}})
	if err != nil {
		t.Fatal(err)
	}
	mail := bigMail(t)
	if len(mail) < 256<<10 {
		t.Fatalf("mail of %d bytes is too small for the test", len(mail))
	}
	env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"x@partner.test"}}
	report := func(from int64) string {
		asyncFrom = from
		res, err := in.Inspect(context.Background(), strings.NewReader(mail), env)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(struct {
			R any
			D any
		}{res.Report, res.Decision})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	inline := report(1 << 62)
	if !strings.Contains(inline, "credit_card") && !strings.Contains(inline, "card") {
		t.Fatalf("the mail finds no card numbers: %.300s", inline)
	}
	for _, from := range []int64{1, 4 << 10, 100 << 10} {
		if got := report(from); got != inline {
			t.Fatalf("asyncFrom %d: report differs from inline:\n%s\n%s", from, got, inline)
		}
	}
}

// BenchmarkLargeCSVMail: the analysis of a mail with an 8 MB Shift_JIS
// CSV, its text scanned inline (the build before) and on a goroutine of
// its own past asyncFrom, in one run:
//
//	go test ./rules/inspect -run '^$' -bench LargeCSVMail -count 4
func BenchmarkLargeCSVMail(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("日付,店舗,商品コード,数量,単価,金額,担当\r\n")
	for i := 0; csv.Len() < 8<<20; i++ {
		fmt.Fprintf(&csv, "2026/%02d/%02d,新宿店%d,A-%06d,%d,%d,%d,営業%d課\r\n", i%12+1, i%28+1, i%40, i, i%50+1, 100+i%900, (i%50+1)*(100+i%900), i%9+1)
	}
	sjis, err := japanese.ShiftJIS.NewEncoder().String(csv.String())
	if err != nil {
		b.Fatal(err)
	}
	var m strings.Builder
	m.WriteString("From: a@example.com\r\nTo: x@partner.test\r\nSubject: 売上集計\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n添付のとおりです。\r\n" +
		"--b\r\nContent-Type: text/csv; charset=Shift_JIS\r\nContent-Disposition: attachment; filename=sales.csv\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(sjis))
	for len(enc) > 76 {
		m.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	m.WriteString(enc + "\r\n--b--\r\n")
	mail := []byte(m.String())
	in := newTest(b)
	env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"x@partner.test"}}
	defer func(n int64) { asyncFrom = n }(asyncFrom)
	for _, c := range []struct {
		name string
		from int64
	}{{"inline", 1 << 62}, {"async", asyncFrom}} {
		b.Run(c.name, func(b *testing.B) {
			asyncFrom = c.from
			b.SetBytes(int64(len(mail)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := in.Inspect(context.Background(), bytes.NewReader(mail), env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
