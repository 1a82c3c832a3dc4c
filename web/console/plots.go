package console

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Plots are server-rendered SVG markup (the CSP allows it; no script).
// Every interpolated string is escaped.

// pairedBars draws, per label, one bar of each series side by side.
func pairedBars(labels []string, ss []series, title string) template.HTML {
	const w, hgt, left, bottom, top = 720, 220, 36, 28, 10
	maxV := 4 // four grid steps of whole messages
	for _, s := range ss {
		for _, v := range s.Values {
			maxV = max(maxV, v)
		}
	}
	maxV = niceCeil(maxV)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, hgt, html.EscapeString(title))
	plotH := float64(hgt - bottom - top)
	gridY(&b, left, w, top, plotH, maxV)
	n := max(len(labels), 1)
	slot := float64(w-left) / float64(n)
	bw := slot * 0.8 / float64(max(len(ss), 1))
	for i, l := range labels {
		x0 := float64(left) + slot*float64(i) + slot*0.1
		for j, s := range ss {
			v := s.Values[i]
			hh := plotH * float64(v) / float64(maxV)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d</title></rect>`,
				x0+bw*float64(j), float64(hgt-bottom)-hh, bw, hh, s.Color, html.EscapeString(l), html.EscapeString(s.Name), v)
		}
		if n <= 16 || i%((n+15)/16) == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" fill="#374151" text-anchor="middle">%s</text>`, x0+slot*0.4, hgt-bottom+14, html.EscapeString(l))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every interpolated string is escaped above
}

// line is one series of a line chart; Has marks the points that exist (a
// week in which nobody decided a hold has no rate).
type line struct {
	Name   string
	Color  string
	Values []float64
	Has    []bool
}

// lineChart draws percentages (0..100) per label, one polyline per
// series, broken where a point is missing.
func lineChart(labels []string, ls []line, title string) template.HTML {
	const w, hgt, left, bottom, top = 720, 200, 36, 28, 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, hgt, html.EscapeString(title))
	plotH := float64(hgt - bottom - top)
	gridY(&b, left, w, top, plotH, 100)
	n := max(len(labels), 1)
	slot := float64(w-left-40) / float64(max(n-1, 1))
	x := func(i int) float64 { return float64(left+12) + slot*float64(i) }
	y := func(v float64) float64 { return float64(top) + plotH*(1-v/100) }
	for i, l := range labels {
		if n <= 16 || i%((n+15)/16) == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" fill="#374151" text-anchor="middle">%s</text>`, x(i), hgt-bottom+14, html.EscapeString(l))
		}
	}
	for _, l := range ls {
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, l.Color, strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for i, v := range l.Values {
			if !l.Has[i] {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s: %.0f%%</title></circle>`,
				x(i), y(v), l.Color, html.EscapeString(l.Name), html.EscapeString(labels[i]), v)
		}
		flush()
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every interpolated string is escaped above
}

// gridY draws four horizontal grid lines with their values.
func gridY(b *strings.Builder, left, w, top int, plotH float64, maxV int) {
	for i := 0; i <= 4; i++ {
		y := float64(top) + plotH*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e7eb"/>`, left, w, y, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="10" fill="#6b7280" text-anchor="end">%d</text>`, left-4, y+3, maxV*(4-i)/4)
	}
}
