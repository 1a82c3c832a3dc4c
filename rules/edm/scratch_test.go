package edm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sendguard/sendguard/rules/extract"
)

func BenchmarkScratchMatch(b *testing.B) {
	cols, _ := ParseColumns("name,kana,phone,email,customer_id")
	bl, _ := NewBuilder(testKey, cols.Fields())
	for i := range 1_000_000 {
		s, m1, m2 := i%10, (i/10)%10, (i/100)%10
		bl.Add([]string{sei[s] + " " + mei1[m1] + mei2[m2], seiK[s] + " " + mei1K[m1] + mei2K[m2],
			fmt.Sprintf("090-%04d-%04d", i/10000, i%10000), fmt.Sprintf("user%d@customer.example.net", i), fmt.Sprintf("C%07d", i)})
	}
	path := filepath.Join(b.TempDir(), "edm.idx")
	bl.WriteFile(path, time.Now())
	ix, _ := Open(path, testKey)
	for _, name := range []string{"customers-csv-sjis.eml", "xlsx-pii.eml", "mixed-attachments.eml", "shiftjis.eml"} {
		raw, _ := os.ReadFile(filepath.Join("../../testdata/rules", name))
		var parts []extract.Part
		extract.Walk(context.Background(), bytes.NewReader(raw), extract.DefaultLimits(), func(p *extract.Part) error {
			if len(p.Text) > 0 {
				parts = append(parts, extract.Part{Text: bytes.Clone(p.Text), Tabular: p.Tabular})
			}
			return nil
		})
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				for _, p := range parts {
					ix.Match(p.Text, p.Tabular)
				}
			}
		})
	}
}
