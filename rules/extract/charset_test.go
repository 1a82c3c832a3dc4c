package extract

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

func mustEncode(t testing.TB, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetectCharset(t *testing.T) {
	utf16le := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	utf16be := unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	tests := []struct {
		name string
		in   []byte
		want string
		text string
	}{
		{"utf8 short", []byte("東京"), "utf-8", "東京"},
		{"sjis two kanji", mustEncode(t, japanese.ShiftJIS, "東京"), "shift_jis", "東京"},
		{"eucjp two kanji", mustEncode(t, japanese.EUCJP, "東京"), "euc-jp", "東京"},
		{"sjis kana", mustEncode(t, japanese.ShiftJIS, "ひらがなとカタカナ"), "shift_jis", "ひらがなとカタカナ"},
		{"eucjp kana", mustEncode(t, japanese.EUCJP, "ひらがなとカタカナ"), "euc-jp", "ひらがなとカタカナ"},
		{"sjis halfwidth + kanji", mustEncode(t, japanese.ShiftJIS, "ｶﾅ 山田 太郎 090-1111-2222"), "shift_jis", "ｶﾅ 山田 太郎"},
		{"sjis cp932 ext", mustEncode(t, japanese.ShiftJIS, "①㈱髙"), "shift_jis", "①㈱髙"},
		{"iso-2022-jp", mustEncode(t, japanese.ISO2022JP, "氏名: 山田"), "iso-2022-jp", "氏名: 山田"},
		{"utf16le bom", mustEncode(t, utf16le, "氏名,電話"), "utf-16le", "氏名,電話"},
		{"utf16be bom", mustEncode(t, utf16be, "氏名,電話"), "utf-16be", "氏名,電話"},
		{"utf16le no bom", mustEncode(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "name,phone\r\nyamada,0311112222\r\n"), "utf-16le", "yamada,0311112222"},
		{"utf8 bom", append([]byte{0xEF, 0xBB, 0xBF}, "氏名"...), "utf-8", "氏名"},
		{"latin1", []byte("caf\xe9 cr\xe8me br\xfbl\xe9e"), "windows-1252", "café crème brûlée"},
		{"ascii", []byte("plain ascii"), "utf-8", "plain ascii"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, used, _ := decodeText(tc.in, "")
			if used != tc.want {
				t.Errorf("charset %q, want %q", used, tc.want)
			}
			if !contains(text, tc.text) {
				t.Errorf("text %q lacks %q", text, tc.text)
			}
		})
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func TestDecodeTextDeclared(t *testing.T) {
	sjis := mustEncode(t, japanese.ShiftJIS, "①山田")
	jis := mustEncode(t, japanese.ISO2022JP, "①山田")
	tests := []struct {
		label   string
		in      []byte
		want    string
		problem bool
	}{
		{"CP932", sjis, "①山田", false},
		{"Windows-31J", sjis, "①山田", false},
		{"x-sjis", sjis, "①山田", false},
		{"Shift_JIS", sjis, "①山田", false},
		{"ISO-2022-JP-MS", jis, "①山田", false},
		{"CP50220", jis, "①山田", false},
		{"\"iso-2022-jp\"", jis, "①山田", false},
		// wrong label: the content wins and the mismatch is reported
		{"Shift_JIS", []byte("①山田"), "①山田", true},
		{"us-ascii", sjis, "①山田", false},
		{"no-such-charset", sjis, "①山田", true},
	}
	for _, tc := range tests {
		text, _, problem := decodeText(tc.in, tc.label)
		if string(text) != tc.want || (problem != "") != tc.problem {
			t.Errorf("%s: %q problem %q", tc.label, text, problem)
		}
	}
}
