package detect

import (
	"fmt"
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	runDetCases(t, EmailAddress, []detCase{
		{"plain", "連絡先: taro.yamada@example.co.jp まで", []string{"taro.yamada@example.co.jp"}},
		{"upper case", "Taro@Example.COM", []string{"taro@example.com"}},
		{"full-width", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", []string{"taro@example.com"}},
		{"plus and digits", "<user+tag_01@mail.example.org>", []string{"user+tag_01@mail.example.org"}},
		{"sentence end", "送付先はhanako@example.jp。", []string{"hanako@example.jp"}},
		{"trailing dot", "mail me at a.b@example.com.", []string{"a.b@example.com"}},
		{"japanese before", "担当：sato@example.com", []string{"sato@example.com"}},
		{"no tld", "root@localhost", nil},
		{"label too long", "a@" + strings.Repeat("x", 64) + ".com", nil},
		{"file name", "icon@2x.png", nil},
		{"numeric tld", "user@10.0.0.1", nil},
		{"bare at", "@ example", nil},
		{"no local", "@example.com", nil},
	})
}

func TestAddress(t *testing.T) {
	runDetCases(t, JPAddress, []detCase{
		{"tokyo ward", "住所：東京都千代田区千代田1-1", []string{"東京都千代田区千代田1-1"}},
		{"full-width digits", "東京都港区芝公園４－２－８　東京タワー", []string{"東京都港区芝公園4-2-8"}},
		{"county town", "埼玉県入間郡三芳町藤久保1100-1", []string{"埼玉県入間郡三芳町藤久保1100-1"}},
		{"hokkaido", "北海道札幌市中央区北1条西2丁目", []string{"北海道札幌市中央区北1条西2丁目"}},
		{"designated city", "大阪市北区梅田3-1-1", []string{"大阪市北区梅田3-1-1"}},
		{"prefecture city", "大阪府大阪市北区梅田3-1-1", []string{"大阪府大阪市北区梅田3-1-1"}},
		{"hiragana city", "茨城県つくば市千現1-2-1", []string{"茨城県つくば市千現1-2-1"}},
		{"csv cell", "山田,神奈川県横浜市西区みなとみらい2-2-1,090", []string{"神奈川県横浜市西区みなとみらい2-2-1"}},
		{"glued phone", "東京都港区芝5-7-1電話03-1234-5678", []string{"東京都港区芝5-7-1"}},
		{"glued TEL", "東京都港区芝5-7-1TEL03-1234-5678", []string{"東京都港区芝5-7-1"}},
		{"particle ends", "弊社は東京都千代田区にある", []string{"東京都千代田区"}},
		{"particle inside a name", "東京都千代田区丸の内1-1、霞が関2-1", []string{"東京都千代田区丸の内1-1"}},
		{"prose prefecture", "東京都の予算は市場で話題になった", nil},
		{"governor", "東京都知事が会見した", nil},
		{"university", "東京都市大学", nil},
		{"designated city without ward", "横浜市の人口", nil},
		{"bare prefecture", "大阪府", nil},
	})
}

func TestAddressKeepsFollowingPhone(t *testing.T) {
	e := newTestEngine(t, Config{})
	for _, text := range []string{"東京都港区芝5-7-1電話03-1234-5678", "東京都港区芝5-7-1TEL03-1234-5678"} {
		if got := valuesOf(e, text, false, JPPhone); len(got) != 1 || got[0] != "0312345678" {
			t.Errorf("%q: phones %q", text, got)
		}
	}
}

func TestKeyword(t *testing.T) {
	runDetCases(t, Keyword, []detCase{
		{"japanese", "【社外秘】来期計画", []string{"社外秘"}},
		{"several", "極秘・取扱注意・関係者外秘", []string{"極秘", "取扱注意", "関係者外秘"}},
		{"english case", "CONFIDENTIAL - do not share", []string{"Confidential"}},
		{"longest match", "Strictly  confidential", []string{"Strictly Confidential"}},
		{"full-width", "ＣＯＮＦＩＤＥＮＴＩＡＬ", []string{"Confidential"}},
		{"circled", "㊙資料", []string{"㊙"}},
		{"word boundary", "nonconfidential confidentiality", nil},
		{"nothing", "ごく普通の連絡です", nil},
	})
	e := newTestEngine(t, Config{Keywords: []string{"Project Falcon", "鷹計画", "Überraschung", "Секрет", "🔒機密"}})
	got := valuesOf(e, "re: project   falcon / 鷹計画 / 社外秘 / Überraschung Секрет 🔒機密", false, Keyword)
	want := []string{"Project Falcon", "Überraschung", "Секрет", "鷹計画", "🔒機密"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("custom dictionary: got %q, want %q", got, want)
	}
}
