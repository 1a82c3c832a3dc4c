package console

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Chart colours, one per series, shared with the legend in the CSS.
var seriesColors = []string{"#d97706", "#16a34a", "#dc2626", "#2563eb", "#7c3aed", "#0891b2"}

// series is one line of a stacked bar chart.
type series struct {
	Name   string
	Color  string
	Values []int
}

// stackedBars draws one stacked bar per label. Labels and names are
// escaped: they may come from mail (sender addresses, domains).
func stackedBars(labels []string, ss []series, title string) template.HTML {
	const w, hgt, left, bottom, top = 720, 220, 36, 28, 10
	maxV := 1
	for i := range labels {
		sum := 0
		for _, s := range ss {
			sum += s.Values[i]
		}
		maxV = max(maxV, sum)
	}
	maxV = niceCeil(maxV)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, hgt, html.EscapeString(title))
	plotH := float64(hgt - bottom - top)
	for i := 0; i <= 4; i++ {
		y := float64(top) + plotH*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e7eb"/>`, left, w, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="10" fill="#6b7280" text-anchor="end">%d</text>`, left-4, y+3, maxV*(4-i)/4)
	}
	n := max(len(labels), 1)
	slot := float64(w-left) / float64(n)
	bw := slot * 0.7
	for i, l := range labels {
		x := float64(left) + slot*float64(i) + (slot-bw)/2
		y := float64(hgt - bottom)
		for _, s := range ss {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			hh := plotH * float64(v) / float64(maxV)
			y -= hh
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d</title></rect>`,
				x, y, bw, hh, s.Color, html.EscapeString(l), html.EscapeString(s.Name), v)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" fill="#374151" text-anchor="middle">%s</text>`, x+bw/2, hgt-bottom+14, html.EscapeString(l))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every interpolated string is escaped above
}

// kv is one bar of a horizontal bar chart.
type kv struct {
	Key   string
	Value int
}

// hbars draws labelled horizontal bars, longest first as given.
func hbars(items []kv, color, title string) template.HTML {
	const w, row, labelW = 420, 24, 190
	hgt := max(len(items), 1) * row
	maxV := 1
	for _, it := range items {
		maxV = max(maxV, it.Value)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, hgt, html.EscapeString(title))
	for i, it := range items {
		y := i * row
		bar := float64(w-labelW-50) * float64(it.Value) / float64(maxV)
		label := it.Key
		if r := []rune(label); len(r) > 28 {
			label = string(r[:27]) + "…"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#374151" text-anchor="end">%s<title>%s</title></text>`,
			labelW-8, y+16, html.EscapeString(label), html.EscapeString(it.Key))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="16" rx="3" fill="%s"/>`, labelW, y+4, max(bar, 2), color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" fill="#111827">%d</text>`, float64(labelW)+max(bar, 2)+6, y+16, it.Value)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every interpolated string is escaped above
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, divisible by 4
// where possible, for axis ticks.
func niceCeil(v int) int {
	p := 1
	for {
		for _, m := range []int{1, 2, 4, 5, 8, 10} {
			if m*p >= v {
				return m * p
			}
		}
		p *= 10
	}
}
