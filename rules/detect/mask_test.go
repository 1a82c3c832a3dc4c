package detect

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for _, c := range []struct {
		det  int
		v    string
		want string
	}{
		{detMyNumber, "123456789018", "1234********"},
		{detCorporate, "7000012050002", "7000*********"},
		{detCard, "4111111111111111", "****-****-****-1111"},
		{detCard, "378282246310005", "****-****-****-0005"},
		{detPhone, "09012345678", "090-****-5678"},
		{detPhone, "0312345678", "0*****-5678"},
		{detPhone, "0120123456", "0120-***-456"},
		{detEmail, "taro@example.com", "t***@example.com"},
		{detEmail, "t@example.com", "t***@example.com"},
		{detPostal, "1000001", "100-****"},
		{detAddress, "東京都千代田区千代田1-1", "東京都千代田区***"},
		{detAddress, "大阪市北区梅田", "大阪市***"},
		{detBank, "1234567", "****567"},
		{detPassport, "TK1234567", "TK*******"},
		{detLicense, "123456789012", "12**********"},
		{detKeyword, "社外秘", "社外秘"},
	} {
		got := mask(c.det, []byte(c.v))
		if got != c.want {
			t.Errorf("mask(%s, %q) = %q, want %q", detectorNames[c.det], c.v, got, c.want)
		}
		if c.det != detKeyword && (got == c.v || !strings.Contains(got, "*")) {
			t.Errorf("mask(%s, %q) = %q reveals the value", detectorNames[c.det], c.v, got)
		}
	}
}

// Results carry masked samples only unless RetainValues is set.
func TestNoRawValuesByDefault(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := e.Scan([]byte("マイナンバー 123456789018 電話 090-1234-5678 a@example.com"), false)
	for _, h := range r.Hits() {
		if h.Values != nil {
			t.Errorf("%s kept raw values", h.Detector)
		}
		for _, s := range h.Samples {
			for _, raw := range []string{"123456789018", "09012345678", "090-1234-5678", "a@example.com"} {
				if strings.Contains(s, raw) {
					t.Errorf("%s sample %q contains raw %q", h.Detector, s, raw)
				}
			}
		}
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{Disabled: []string{"nope", MyNumber}, Keywords: []string{""}}); err == nil ||
		!strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "keywords[0]") {
		t.Errorf("bad config accepted or errors missing: %v", err)
	}
	e := newTestEngine(t, Config{Disabled: []string{JPPhone, Keyword}})
	r := e.Scan([]byte("社外秘 090-1234-5678 a@example.com"), false)
	if _, ok := r.Hit(JPPhone); ok {
		t.Error("disabled phone detector fired")
	}
	if _, ok := r.Hit(Keyword); ok {
		t.Error("disabled keyword detector fired")
	}
	if _, ok := r.Hit(EmailAddress); !ok {
		t.Error("email detector off")
	}
	if len(Names()) != numDetectors {
		t.Error("Names incomplete")
	}
}
