package sent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/spool"
)

// bigMail is a mail with a 2,000-row customer list (≈120 KB) attached.
func bigMail() (string, string) {
	var csv strings.Builder
	csv.WriteString("氏名,電話番号,メールアドレス\r\n")
	for i := range 2000 {
		fmt.Fprintf(&csv, "顧客%d,090-%04d-%04d,c%d@customer.example.net\r\n", i, 1000+i/10000, i%10000, i)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(csv.String()))
	var w strings.Builder
	for len(b64) > 76 {
		w.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	w.WriteString(b64)
	return "From: alice@example.com\r\nTo: a@partner.test\r\nSubject: list\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n" +
		"Content-Type: text/csv\r\nContent-Disposition: attachment; filename=\"list.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		w.String() + "\r\n--b--\r\n", csv.String()
}

// BenchmarkPrepare measures what the sent record adds to a delivery:
// walking the body and hashing its attachments, against hashing the raw
// body once (a lower bound of any pass over it) as the baseline, and
// reports the record's stored size.
func BenchmarkPrepare(b *testing.B) {
	mail, _ := bigMail()
	sp, _ := spooled("Q1", "a@partner.test", "b@partner.test")
	b.Run("hash-raw", func(b *testing.B) {
		b.SetBytes(int64(len(mail)))
		for b.Loop() {
			h := sha256.New()
			io.Copy(h, bytes.NewReader([]byte(mail)))
			h.Sum(nil)
		}
	})
	b.Run("prepare", func(b *testing.B) {
		b.SetBytes(int64(len(mail)))
		var size int
		for b.Loop() {
			r := Prepare(sp, time.Now(), bytes.NewReader([]byte(mail)))
			v, _ := json.Marshal(r)
			size = len(v)
		}
		b.ReportMetric(float64(size), "record-bytes")
	})
}

// smallMail is a few-KB mail: an ISO-2022-JP text part and an 8 KB
// attachment, the encrypt class of sendguard-bench.
func smallMail() string {
	att := make([]byte, 8<<10)
	for i := range att {
		att[i] = byte(i * 7)
	}
	b64 := base64.StdEncoding.EncodeToString(att)
	var w strings.Builder
	for len(b64) > 76 {
		w.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	w.WriteString(b64)
	return "From: alice@example.com\r\nTo: a@partner.test\r\nSubject: =?ISO-2022-JP?B?GyRCOGQ1UiVqJTklSBsoQg==?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
		"\x1b$B$*@$OC$K$J$C$F$*$j$^$9!#\x1b(B\r\n--b\r\n" +
		"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"sales.xlsx\"\r\n" +
		"Content-Disposition: attachment; filename=\"sales.xlsx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		w.String() + "\r\n--b--\r\n"
}

// BenchmarkHashSmall compares walking every part of a small mail (as
// before) with skipping the parts that neither name a file nor hold
// parts, in the same run.
func BenchmarkHashSmall(b *testing.B) {
	mail := smallMail()
	defer func() { walkNameless = false }()
	for _, tc := range []struct {
		name string
		all  bool
	}{{"walk-all", true}, {"skip-nameless", false}} {
		b.Run(tc.name, func(b *testing.B) {
			walkNameless = tc.all
			b.ReportAllocs()
			for b.Loop() {
				atts, _, err := hashAttachments(strings.NewReader(mail))
				if err != nil || len(atts) != 1 {
					b.Fatal(atts, err)
				}
			}
		})
	}
}

// BenchmarkPrepareReport is Prepare of a mail with a 200 KB workbook,
// with the attachments taken from the inspection's report and with a
// report that does not vouch for its hashes (reading the message again),
// in the same run.
func BenchmarkPrepareReport(b *testing.B) {
	rng := rand.New(rand.NewPCG(16, 19))
	mail := mailOf(multipart("mixed", "b1", part("Content-Type: text/plain; charset=UTF-8", "よろしくお願いします。\r\n"),
		part("Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"=?UTF-8?B?5rOo5paH5piO57SwLnhsc3g=?=\"\r\n"+
			"Content-Disposition: attachment; filename=\"=?UTF-8?B?5rOo5paH5piO57SwLnhsc3g=?=\"\r\nContent-Transfer-Encoding: base64",
			b64Lines(testXLSX(b, rng, 200<<10)))))
	rep, _, err := testInspectors(b)["default"].Analyze(context.Background(), bytes.NewReader(mail), inspect.Envelope{})
	if err != nil || !rep.AttachmentsHashed {
		b.Fatal(err)
	}
	for _, hashed := range []bool{false, true} {
		rep.AttachmentsHashed = hashed
		rj, _ := json.Marshal(rep)
		rec := &spool.Record{ID: "Q1", Kind: spool.KindMail, State: spool.StateDelivered, Size: int64(len(mail)), Report: rj,
			Rcpts: []spool.Rcpt{{Addr: "x@partner.test", Status: spool.RcptDelivered}}}
		name := "message"
		if hashed {
			name = "report"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := Prepare(rec, t0, bytes.NewReader(mail)); len(r.Attachments) != 1 || r.Attachments[0].SHA256 == "" {
					b.Fatal(r.Attachments)
				}
			}
		})
	}
}
