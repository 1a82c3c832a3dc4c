package edm

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// Header says whether a CSV file starts with a header row.
type Header int

const (
	// HeaderAuto takes the first row as a header when none of its cells
	// holds a digit or an '@' (data rows carry a phone, an e-mail or an id).
	HeaderAuto Header = iota
	HeaderYes
	HeaderNo
)

// Columns maps CSV columns to fields: Columns[i] is the field name of
// column i, or "-" for a column that is not imported.
type Columns []string

// ParseColumns reads a comma-separated column list ("name,kana,-,phone").
func ParseColumns(s string) (Columns, error) {
	cols := Columns(strings.Split(s, ","))
	seen := map[string]bool{}
	n := 0
	for i, c := range cols {
		c = strings.TrimSpace(c)
		cols[i] = c
		switch {
		case c == "":
			return nil, fmt.Errorf("edm: empty field name in %q (use - to skip a column)", s)
		case c == "-":
			continue
		case seen[c]:
			return nil, fmt.Errorf("edm: field %q given twice", c)
		}
		seen[c] = true
		n++
	}
	if n == 0 || n > MaxFields {
		return nil, fmt.Errorf("edm: 1 to %d fields, got %d", MaxFields, n)
	}
	return cols, nil
}

// Fields are the imported field names in column order.
func (c Columns) Fields() []string {
	var out []string
	for _, f := range c {
		if f != "-" {
			out = append(out, f)
		}
	}
	return out
}

// ImportStats reports what an import read.
type ImportStats struct {
	Rows     int    // data rows read
	Empty    int    // rows without any matchable value
	Encoding string // "utf-8" or "shift_jis"
	Header   bool   // whether the first row was taken as a header
}

// ImportCSV reads a CSV file (UTF-8, with or without BOM, or Shift_JIS,
// detected) and adds each data row to b.
func ImportCSV(r io.Reader, cols Columns, header Header, b *Builder) (ImportStats, error) {
	var st ImportStats
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return st, fmt.Errorf("read csv: %w", err)
	}
	var src io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		br.Discard(3)
		st.Encoding = "utf-8"
	case validUTF8Prefix(head, len(head) == 64<<10):
		st.Encoding = "utf-8"
	default:
		st.Encoding = "shift_jis"
		src = transform.NewReader(br, japanese.ShiftJIS.NewDecoder())
	}
	cr := csv.NewReader(src)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	vals := make([]string, len(cols.Fields()))
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, fmt.Errorf("read csv: %w", err)
		}
		if first {
			first = false
			if header == HeaderYes || header == HeaderAuto && looksLikeHeader(rec) {
				st.Header = true
				continue
			}
		}
		clear(vals)
		fi := 0
		for i, c := range cols {
			if c == "-" {
				continue
			}
			if i < len(rec) {
				vals[fi] = rec[i]
			}
			fi++
		}
		ok, err := b.Add(vals)
		if err != nil {
			return st, err
		}
		st.Rows++
		if !ok {
			st.Empty++
		}
	}
	return st, nil
}

// validUTF8Prefix reports whether p is UTF-8; when p was cut from a longer
// input, a rune cut at its end is allowed.
func validUTF8Prefix(p []byte, cut bool) bool {
	if utf8.Valid(p) {
		return true
	}
	if !cut {
		return false
	}
	for k := 1; k <= 3 && k < len(p); k++ {
		if utf8.Valid(p[:len(p)-k]) {
			return true
		}
	}
	return false
}

func looksLikeHeader(rec []string) bool {
	for _, c := range rec {
		if strings.ContainsAny(c, "0123456789０１２３４５６７８９@＠") {
			return false
		}
	}
	return true
}
