package detect

import "testing"

func TestContextWordsFit(t *testing.T) {
	for _, w := range contextWords {
		if len(w.w) > maxCtxWordLen {
			t.Errorf("%q is longer than maxCtxWordLen", w.w)
		}
	}
}

func TestContextNearestWins(t *testing.T) {
	x := newCtxIndex()
	for _, c := range []struct {
		text string
		want uint8
	}{
		{"マイナンバー 注文番号 ", catNegative},
		{"注文番号 マイナンバー ", catMyNumber},
		{"ポイントカード番号", catNegative}, // longer word ending at the same place
		{"カード番号", catCard},
		{"hotel ", catNone}, // "tel" inside a word
		{"TEL:", catPhone},
		{"", catNone},
	} {
		b := []byte(c.text)
		if got := x.best(b, 0, 0, len(b)).cat; got != c.want {
			t.Errorf("best(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}
