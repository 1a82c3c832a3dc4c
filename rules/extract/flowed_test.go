package extract

import "testing"

func TestUnflow(t *testing.T) {
	for _, c := range []struct {
		in    string
		delsp bool
		want  string
	}{
		{"個人番号 1932 5813 \r\n8140\r\n", false, "個人番号 1932 5813 8140\n"},
		{"12345678 \r\n9012\r\n", true, "123456789012\n"},
		{"hard\r\nbreak\r\n", false, "hard\nbreak\n"},
		{"> quoted \r\n> more\r\nnot quoted\r\n", false, "> quoted more\nnot quoted\n"},
		{" From stuffed\r\n", false, "From stuffed\n"},
		{"-- \r\nsig\r\n", false, "-- \nsig\n"},
		{"depth change \r\n> quoted\r\n", false, "depth change \n> quoted\n"},
	} {
		if got := string(unflow([]byte(c.in), c.delsp)); got != c.want {
			t.Errorf("unflow(%q, %v) = %q, want %q", c.in, c.delsp, got, c.want)
		}
	}
}
