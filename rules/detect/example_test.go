package detect_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/sendguard/sendguard/rules/detect"
)

func ExampleEngine_Scan() {
	e, err := detect.New(detect.Config{})
	if err != nil {
		panic(err)
	}
	body := "【社外秘】\nマイナンバー：１２３４－５６７８－９０１８\n携帯 090-1234-5678（注文番号 1234-5678-9018 とは別）\n"
	r := e.Scan([]byte(body), false)
	for _, h := range r.Hits() {
		fmt.Println(h.Detector, h.Count, h.Samples)
	}
	// Output:
	// mynumber 1 [1234********]
	// jp_phone 1 [090-****-5678]
	// keyword 1 [社外秘]
}

func ExampleEngine_NewDocument() {
	e, err := detect.New(detect.Config{})
	if err != nil {
		panic(err)
	}
	var csv strings.Builder
	csv.WriteString("氏名,電話番号,メール\n")
	for i := range 1200 {
		fmt.Fprintf(&csv, "顧客%d,090-%04d-%04d,c%d@example.jp\n", i, 1000+i, i, i)
	}
	doc := e.NewDocument(true)
	// Any chunking works; an io.Copy from a decoder is typical.
	if _, err := io.CopyBuffer(doc, strings.NewReader(csv.String()), make([]byte, 4096)); err != nil {
		panic(err)
	}
	r := doc.Result()
	h, _ := r.Hit(detect.JPPhone)
	fmt.Println(r.CustomerList, r.Rows, r.Records, h.Count, h.Approximate)
	// Output:
	// true 1200 1200 1200 false
}
