package recipients

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseList(t *testing.T) {
	type addr struct{ name, addr, group string }
	tests := []struct {
		in      string
		want    []addr
		wantErr int
	}{
		{"a@example.com", []addr{{"", "a@example.com", ""}}, 0},
		{"A@Example.COM", []addr{{"", "a@example.com", ""}}, 0},
		{"Alice <alice@example.com>, bob@example.net", []addr{{"Alice", "alice@example.com", ""}, {"", "bob@example.net", ""}}, 0},
		{"undisclosed-recipients:;", nil, 0},
		{"team: a@x.example, b@y.example;, c@z.example", []addr{{"", "a@x.example", "team"}, {"", "b@y.example", "team"}, {"", "c@z.example", ""}}, 0},
		{"=?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= <yamada@example.co.jp>", []addr{{"山田 太郎", "yamada@example.co.jp", ""}}, 0},
		{"=?Shift_JIS?B?jbKToQ==?= <sato@example.jp>", []addr{{"佐藤", "sato@example.jp", ""}}, 0},
		{"=?UTF-8?B?5Za25qWt6YOo?= <sales@example.jp>", []addr{{"営業部", "sales@example.jp", ""}}, 0},
		{"\"=?UTF-8?B?5Za25qWt6YOo?=\" <sales@example.jp>", []addr{{"営業部", "sales@example.jp", ""}}, 0},
		{"=?iso-2022-jp?b?GyRCOzNFRBsoQg==?= <y@example.jp>, =?CP932?B?jbKToQ==?= <s@example.jp>", []addr{{"山田", "y@example.jp", ""}, {"佐藤", "s@example.jp", ""}}, 0},
		{"\x97\xe9\x96\xd8 <suzuki@example.jp>", []addr{{"鈴木", "suzuki@example.jp", ""}}, 0},
		{"\x1b$BNkLZ\x1b(B <suzuki@example.jp>", []addr{{"鈴木", "suzuki@example.jp", ""}}, 0},
		// Multi-byte characters split across encoded words.
		{"=?UTF-8?B?5bGx5w==?= =?UTF-8?B?lLAg5aSq6YOO?= <yamada@example.jp>", []addr{{"山田 太郎", "yamada@example.jp", ""}}, 0},
		{"=?Shift_JIS?B?jQ==?=\r\n =?shift_jis?B?spOh?= <sato@example.jp>, x@example.jp", []addr{{"佐藤", "sato@example.jp", ""}, {"", "x@example.jp", ""}}, 0},
		{"=?UTF-8?Q?=E5=96?= =?UTF-8?Q?=B6=E6=A5=AD?= <sales@example.jp>", []addr{{"営業", "sales@example.jp", ""}}, 0},
		{"=?UTF-8?B?5Za2?= x =?UTF-8?B?5qWt?= <a@example.jp>", []addr{{"営 x 業", "a@example.jp", ""}}, 0},
		{"=?UTF-8?B?5Za2?= =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <a@example.jp>", []addr{{"営山田", "a@example.jp", ""}}, 0},
		{"\"john doe\"@example.com", []addr{{"", "\"john doe\"@example.com", ""}}, 0},
		{"\"a\\\"b\"@example.com", []addr{{"", "\"a\\\"b\"@example.com", ""}}, 0},
		{"a@example.com (Alice)", []addr{{"Alice", "a@example.com", ""}}, 0},
		{"(comment) a@example.com", []addr{{"", "a@example.com", ""}}, 0},
		{"Alice (sales, tokyo) <a@example.com>, b@example.com", []addr{{"Alice", "a@example.com", ""}, {"", "b@example.com", ""}}, 0},
		{"a@example.com., b@EXAMPLE.com.", []addr{{"", "a@example.com", ""}, {"", "b@example.com", ""}}, 0},
		{"a@日本.jp", []addr{{"", "a@xn--wgv71a.jp", ""}}, 0},
		{"a@ｅｘａｍｐｌｅ.com", []addr{{"", "a@example.com", ""}}, 0},
		{"a@example.com, broken@, b@example.net", []addr{{"", "a@example.com", ""}, {"", "b@example.net", ""}}, 1},
		{"a@example.com, not an address, <b@example.net", []addr{{"", "a@example.com", ""}, {"", "b@example.net", ""}}, 1},
		{"John Q. Public <jqp@example.com>", []addr{{"John Q. Public", "jqp@example.com", ""}}, 0},
		{"Tanaka, Ichiro <t@example.com>", []addr{{"Ichiro", "t@example.com", ""}}, 1}, // unquoted comma splits the name
		{"\"Tanaka, Ichiro\" <t@example.com>", []addr{{"Tanaka, Ichiro", "t@example.com", ""}}, 0},
		{"a@exa_mple.com", []addr{{"", "a@exa_mple.com", ""}}, 1},
		{"a@EXA_MPLE.com., b@x..y", []addr{{"", "a@exa_mple.com", ""}, {"", "b@x..y", ""}}, 2},
		{"@example.com, a@", nil, 2},
		{"a@b@example.com", []addr{{"", "\"a@b\"@example.com", ""}}, 1}, // kept, routed (external)
		{"a@[192.0.2.1]", []addr{{"", "a@[192.0.2.1]", ""}}, 0},
		{"a@example.com,\r\n b@example.com", []addr{{"", "a@example.com", ""}, {"", "b@example.com", ""}}, 0},
		{"", nil, 0},
		{" , ,", nil, 0},
		{"\"unterminated <a@example.com>", []addr{{"unterminated", "a@example.com", ""}}, 0},
		{"\"Sato, Jiro <s@example.com>, b@example.com", []addr{{"Jiro", "s@example.com", ""}, {"", "b@example.com", ""}}, 1},
		{"(open comment a@example.com, b@example.com", []addr{{"open comment", "a@example.com", ""}, {"", "b@example.com", ""}}, 0},
		{"<a@example.com, b@example.com", []addr{{"", "a@example.com", ""}, {"", "b@example.com", ""}}, 0},
		{"a@example.com, \"x\" (y <z", []addr{{"", "a@example.com", ""}}, 1},
	}
	for _, tt := range tests {
		got, errs := ParseList(tt.in)
		var gotA []addr
		for _, a := range got {
			gotA = append(gotA, addr{a.Name, a.String(), a.Group})
		}
		if !reflect.DeepEqual(gotA, tt.want) || len(errs) != tt.wantErr {
			t.Errorf("ParseList(%q) = %q, %v errors %v; want %q, %d errors", tt.in, gotA, len(errs), errs, tt.want, tt.wantErr)
		}
		for _, err := range errs {
			if !errors.Is(err, ErrBadAddress) {
				t.Errorf("ParseList(%q) error %v does not wrap ErrBadAddress", tt.in, err)
			}
		}
	}
}

func TestParseEnvelope(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"<A@Example.com>", "a@example.com", true},
		{"a@example.com", "a@example.com", true},
		{"<\"john doe\"@example.com>", "\"john doe\"@example.com", true},
		{"<a@xn--wgv71a.jp>", "a@xn--wgv71a.jp", true},
		{"<>", "", false},
		{"<a>", "", false},
	}
	for _, tt := range tests {
		a, err := ParseEnvelope(tt.in)
		if (err == nil) != tt.ok || (tt.ok && a.String() != tt.want) {
			t.Errorf("ParseEnvelope(%q) = %q, %v; want %q ok=%v", tt.in, a.String(), err, tt.want, tt.ok)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Example.COM", "example.com", true},
		{"example.com.", "example.com", true},
		{"日本.JP", "xn--wgv71a.jp", true},
		{"ｅｘａｍｐｌｅ．ｃｏｍ", "example.com", true},
		{"ｅｘａｍｐｌｅ．ｃｏｍ．", "example.com", true},
		{"XN--WGV71A.jp", "xn--wgv71a.jp", true},
		{"a..b", "a..b", false},
		{"", "", false},
		{"exa mple.com", "exa mple.com", false},
	}
	for _, tt := range tests {
		got, err := NormalizeDomain(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
