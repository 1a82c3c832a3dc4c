//go:build unix

package extract

import (
	"bytes"
	"compress/zlib"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"

	"github.com/sendguard/sendguard/rules/extract/worker"
)

// pdfFixtureMails are the fixture messages that carry a PDF.
func pdfFixtureMails(t testing.TB) []string {
	var out []string
	for _, dir := range []string{fixtureDir, "../../testdata/rewrite"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil && bytes.Contains(bytes.ToLower(b), []byte("pdf")) {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no PDF fixtures found")
	}
	return out
}

// pdfSamples are PDFs to compare the workers on: every PDF attachment of
// the fixtures and generated ones (plain, deflated, broken, a bomb).
func pdfSamples(t testing.TB) [][]byte {
	var out [][]byte
	for _, name := range pdfFixtureMails(t) {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		e, err := message.Read(f)
		if err == nil || message.IsUnknownCharset(err) {
			e.Walk(func(_ []int, p *message.Entity, err error) error {
				if err != nil {
					return nil
				}
				ct, _, _ := p.Header.ContentType()
				_, dp, _ := p.Header.ContentDisposition()
				if ct == "application/pdf" || strings.HasSuffix(strings.ToLower(dp["filename"]), ".pdf") {
					if b, err := io.ReadAll(p.Body); err == nil {
						out = append(out, b)
					}
				}
				return nil
			})
		}
		f.Close()
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	io.WriteString(zw, "BT /F1 12 Tf (deflated text) Tj ET")
	zw.Close()
	simple := pdfWithContent([]byte("BT /F1 12 Tf (hello world) Tj ET"), "")
	out = append(out, simple, pdfWithContent(z.Bytes(), "FlateDecode"), simple[:len(simple)/2], []byte("not a pdf"), pdfBomb(t))
	return out
}

func equivBudget() worker.Budget {
	b := benchBudget()
	b.Wall, b.CPU = 30*time.Second, 20*time.Second
	b.MaxText = 4 << 10
	return b
}

// TestWorkerProgramsAgree: the dedicated worker and the re-executed binary
// give byte-identical answers, on the worker protocol and on whole walks
// of the fixtures.
func TestWorkerProgramsAgree(t *testing.T) {
	kinds := workerKinds(t)
	a, b := kinds[0].sandbox(1), kinds[1].sandbox(1)
	for i, pdf := range pdfSamples(t) {
		bud := equivBudget()
		bud.MaxIn = int64(len(pdf))
		x, errX := a.run(context.Background(), "pdf", bytes.NewReader(pdf), bud)
		y, errY := b.run(context.Background(), "pdf", bytes.NewReader(pdf), bud)
		if errX != nil || errY != nil || !reflect.DeepEqual(x, y) {
			t.Errorf("sample %d (%d bytes): %s %+v, %v; self %+v, %v", i, len(pdf), ProgramName, x, errX, y, errY)
		}
	}
	for _, name := range pdfFixtureMails(t) {
		mail, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		_, pa := walkBytes(t, mail, Limits{Sandbox: a})
		_, pb := walkBytes(t, mail, Limits{Sandbox: b})
		if !reflect.DeepEqual(pa, pb) {
			t.Errorf("%s: walks differ:\n%s: %+v\nself: %+v", name, ProgramName, pa, pb)
		}
	}
}

// FuzzWorkerProgramsAgree: on any input the two worker programs answer
// alike (or stop alike); a budget stop may differ only in which budget a
// slow input hit first.
func FuzzWorkerProgramsAgree(f *testing.F) {
	samples := pdfSamples(f)
	// not the bomb (last): its mutations spend every run at the budget
	for _, s := range samples[:len(samples)-1] {
		if len(s) < 64<<10 {
			f.Add(s)
		}
	}
	kinds := workerKinds(f)
	a, b := kinds[0].sandbox(1), kinds[1].sandbox(1)
	f.Fuzz(func(t *testing.T, pdf []byte) {
		bud := equivBudget()
		bud.Wall, bud.CPU = 2*time.Second, time.Second
		bud.MaxIn = int64(max(len(pdf), 1))
		x, errX := a.run(context.Background(), "pdf", bytes.NewReader(pdf), bud)
		y, errY := b.run(context.Background(), "pdf", bytes.NewReader(pdf), bud)
		var sx, sy *stopError
		switch {
		case errX == nil && errY == nil:
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("%s %+v, self %+v", ProgramName, x, y)
			}
		case asStop(errX, &sx) && asStop(errY, &sy):
			budgets := map[string]bool{reasonTime: true, reasonCPU: true, reasonMemory: true}
			if sx.reason != sy.reason && !(budgets[sx.reason] && budgets[sy.reason]) {
				t.Fatalf("%s stopped: %v, self: %v", ProgramName, errX, errY)
			}
		default:
			t.Fatalf("%s %+v, %v; self %+v, %v", ProgramName, x, errX, y, errY)
		}
	})
}

func asStop(err error, se **stopError) bool {
	s, ok := err.(*stopError)
	*se = s
	return ok
}
