package notify

import (
	"io"
	"mime/quotedprintable"
	"testing"
)

// BenchmarkBuild renders a Japanese confirm notice; BenchmarkQPBaseline
// only quoted-printable-encodes a text of the same size, the baseline for
// the ratio.
func BenchmarkBuild(b *testing.B) {
	bl := newTestBuilder(b)
	n := noticeFor(KindConfirm, "ja")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bl.Build(n); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQPBaseline(b *testing.B) {
	bl := newTestBuilder(b)
	msg, err := bl.Build(noticeFor(KindConfirm, "ja"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := quotedprintable.NewWriter(io.Discard)
		_, _ = w.Write(msg)
		_ = w.Close()
	}
}
