package intake

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// errLongLine stands for the line limit's refusal in the table.
var errLongLine = &dataError{kind: DataLineTooLong, limit: 1000}

func TestDataChecker(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		normalize bool
		want      string
		err       error
	}{
		{"crlf passes", "A: b\r\n\r\nbody\r\n", false, "A: b\r\n\r\nbody\r\n", nil},
		{"bare lf refused", "A: b\r\n\r\nx\ny\r\n", false, "", errBareLF},
		{"bare cr refused", "A: b\r\n\r\nx\ry\r\n", false, "", errBareLF},
		{"trailing cr refused", "A: b\r\n\r\nx\r", false, "", errBareLF},
		{"lf normalized", "A: b\n\nx\ny\n", true, "A: b\r\n\r\nx\r\ny\r\n", nil},
		{"cr normalized", "A: b\r\n\r\nx\ry\r\n", true, "A: b\r\n\r\nx\r\ny\r\n", nil},
		{"loop", strings.Repeat("Received: from x\r\n", 51) + "\r\nbody\r\n", false, "", errLoop},
		{"50 received ok", strings.Repeat("Received: from x\r\n", 50) + "\r\nbody\r\n", false, strings.Repeat("Received: from x\r\n", 50) + "\r\nbody\r\n", nil},
		{"received in body ignored", "A: b\r\n\r\n" + strings.Repeat("Received: x\r\n", 60), false, "A: b\r\n\r\n" + strings.Repeat("Received: x\r\n", 60), nil},
		{"huge header", "X: " + strings.Repeat("aaaaaaa\r\n ", maxHeaderBytes/9) + "b\r\n\r\n", false, "", errHeaderTooBig},
		{"line at the limit", "A: b\r\n\r\n" + strings.Repeat("x", 998) + "\r\n", false, "A: b\r\n\r\n" + strings.Repeat("x", 998) + "\r\n", nil},
		{"line over the limit", "A: b\r\n\r\n" + strings.Repeat("x", 999) + "\r\n", false, "", errLongLine},
		{"header line over the limit", "A: " + strings.Repeat("b", 997) + "\r\n\r\n", false, "", errLongLine},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Feed in odd chunk sizes so state crosses Write calls.
			for _, chunk := range []int{1, 3, 7, 4096} {
				var out bytes.Buffer
				d := newDataChecker(&out, c.normalize, 1000)
				var err error
				for i := 0; i < len(c.in) && err == nil; i += chunk {
					_, err = d.Write([]byte(c.in[i:min(i+chunk, len(c.in))]))
				}
				if err == nil {
					err = d.Close()
				}
				if c.err == errLongLine {
					var de *dataError
					if !errors.As(err, &de) || *de != *errLongLine {
						t.Fatalf("chunk %d: err %v, want the line limit", chunk, err)
					}
					return
				}
				if !errors.Is(err, c.err) {
					t.Fatalf("chunk %d: err %v, want %v", chunk, err, c.err)
				}
				if c.err == nil && out.String() != c.want {
					t.Fatalf("chunk %d: out %q, want %q", chunk, out.String(), c.want)
				}
			}
		})
	}
}

// FuzzDataChecker: in normalize mode every output line ends in CRLF and no
// bare CR or LF survives; in reject mode accepted input passes unchanged.
func FuzzDataChecker(f *testing.F) {
	f.Add([]byte("A: b\r\n\r\nbody\r\n"))
	f.Add([]byte("A: b\n\nx\ry\n.\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		d := newDataChecker(&out, true, 0)
		if _, err := d.Write(in); err == nil {
			d.Close()
		}
		b := out.Bytes()
		for i, c := range b {
			if c == '\n' && (i == 0 || b[i-1] != '\r') {
				t.Fatalf("bare LF at %d in %q", i, b)
			}
			if c == '\r' && (i+1 >= len(b) || b[i+1] != '\n') {
				t.Fatalf("bare CR at %d in %q", i, b)
			}
		}
		out.Reset()
		d = newDataChecker(&out, false, 0)
		_, err := d.Write(in)
		if err == nil {
			err = d.Close()
		}
		if err == nil && !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("accepted input changed: %q -> %q", in, out.Bytes())
		}
	})
}
