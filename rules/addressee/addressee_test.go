package addressee

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"株式会社山田商事":              "山田商事",
		"山田商事株式会社":              "山田商事",
		"㈱山田商事":                 "山田商事",
		"（株）山田商事":               "山田商事",
		"株式会社　ｻﾄｳ精機":            "サトウ精機",
		"有限会社 鈴木工務店":            "鈴木工務店",
		"ABC Trading Co., Ltd.": "abctrading",
		"ＡＢＣ　Ｔｒａｄｉｎｇ　Ｃｏ．，　Ｌｔｄ．": "abctrading",
		"山田商事ロジスティクス株式会社":       "山田商事ロジスティクス",
	} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewDirectoryRefuses(t *testing.T) {
	t.Parallel()
	_, err := NewDirectory([]Company{
		{Name: "株式会社山田商事", Domains: []string{"yamada.co.jp"}},
		{Name: "山田商事株式会社", Domains: []string{"yamada2.co.jp"}},
		{Name: "株式会社", Domains: []string{"x.co.jp"}},
		{Name: "株式会社B", Domains: []string{"not a domain"}},
		{Name: "株式会社C"},
	})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"partners[1]", "partners[2]", "partners[3]", "partners[4]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %s", err, want)
		}
	}
}

func TestDomainsAndGroups(t *testing.T) {
	t.Parallel()
	d, err := NewDirectory([]Company{
		{Name: "株式会社山田商事", Domains: []string{"yamada.co.jp"}},
		{Name: "山田商事ロジスティクス株式会社", Domains: []string{"logi.yamada.co.jp"}},
		{Name: "株式会社鈴木", Domains: []string{"suzuki.co.jp"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	named := d.Names([]byte("株式会社山田商事 御中\n\nお世話になっております。"))
	if len(named) != 1 || d.companies[named[0]].Name != "株式会社山田商事" {
		t.Fatalf("named %v", named)
	}
	// the subsidiary's own subdomain belongs to the subsidiary, not the parent
	mm := d.Compare(named, []string{"mx.logi.yamada.co.jp", "yamada.co.jp", "unknown.example", "suzuki.co.jp"})
	if len(mm) != 2 || mm[0].Recipient != "山田商事ロジスティクス株式会社" || mm[1].Recipient != "株式会社鈴木" {
		t.Fatalf("mismatches %+v", mm)
	}
	if got := d.Names([]byte("鈴木 様\n")); len(got) != 0 {
		t.Fatalf("a surname was taken for a company: %v", got)
	}
	if got := d.Compare(nil, []string{"suzuki.co.jp"}); got != nil {
		t.Fatalf("no addressee, mismatches %v", got)
	}
}
