package rewrite

import (
	"bytes"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processCPU is this process's user+system CPU time: on a shared, loaded
// machine it moves far less than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEncrypt rewrites msg b.N times and reports CPU time per op.
func benchEncrypt(b *testing.B, msg []byte) {
	var dst bytes.Buffer
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		dst.Reset()
		if _, err := EncryptAttachments(&dst, bytes.NewReader(msg), testOptions()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
}

// smallOfficeMail is the common case of the encrypt path: a few-KB
// Japanese mail with one small Office file (an 8 KB stand-in for an .xlsx,
// which is itself a zip: incompressible).
func smallOfficeMail(b *testing.B) []byte {
	var buf bytes.Buffer
	buf.WriteString("From: =?UTF-8?B?5bGx55Sw?= <yamada@example.com>\r\nTo: <tanaka@partner.co.jp>\r\n" +
		"Subject: =?UTF-8?B?6KaL56mN5pu4?=\r\nMessage-ID: <small@example.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n\r\n")
	buf.WriteString(strings.Repeat("いつもお世話になっております。見積書を送付いたします。\r\n", 40))
	buf.WriteString("--b1\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"mitsumori.xlsx\"\r\n" +
		"Content-Disposition: attachment; filename=\"mitsumori.xlsx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	raw, err := io.ReadAll(newPRNG(8 << 10))
	if err != nil {
		b.Fatal(err)
	}
	if err := writeBase64(&buf, bytes.NewReader(raw), "\r\n"); err != nil {
		b.Fatal(err)
	}
	buf.WriteString("\r\n--b1--\r\n")
	return buf.Bytes()
}

// BenchmarkEncryptSmall: the per-message cost of the encrypt path on a
// small mail, against a copy of the same bytes.
func BenchmarkEncryptSmall(b *testing.B) {
	msg := smallOfficeMail(b)
	b.Run("copy", func(b *testing.B) { benchCopy(b, msg) })
	b.Run("encrypt", func(b *testing.B) { benchEncrypt(b, msg) })
}

// BenchmarkEncryptLargeCPU: a 4 MiB incompressible attachment, CPU per op.
func BenchmarkEncryptLargeCPU(b *testing.B) {
	msg, err := io.ReadAll(largeMessage(4 << 20))
	if err != nil {
		b.Fatal(err)
	}
	benchEncrypt(b, msg)
}
