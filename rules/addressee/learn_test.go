package addressee

import (
	"testing"
	"time"
)

func TestCompanyInDisplayName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"佐藤 一郎 (北海物産ロジ株式会社)":                "北海物産ロジ株式会社",
		"株式会社 山田商事 佐藤様":                     "株式会社山田商事",
		"山田商事サービス(株) 田中":                    "山田商事サービス(株)",
		"(株)山田商事 営業部":                       "(株)山田商事",
		"㈱山田商事":                             "(株)山田商事",
		"【株式会社中央メディカル】鈴木":                   "株式会社中央メディカル",
		"Ken Mori / Mori Trading Co., Ltd.": "Mori Trading Co., Ltd.",
		"佐藤 一郎":                             "",
		"sales":                             "",
		"株式会社":                              "",
	} {
		got, ok := CompanyInDisplayName(in)
		if got != want || ok != (want != "") {
			t.Errorf("CompanyInDisplayName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestObserveDecayAndBound(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ws []NameWeight
	ws = Observe(ws, "北海物産ロジ株式会社", t0)
	if got := Above(ws, t0); len(got) != 0 {
		t.Fatalf("one delivery taught %v", got)
	}
	ws = Observe(ws, "北海物産ロジ 株式会社", t0.Add(time.Hour)) // same company, other spelling
	ws = Observe(ws, "北海物産ロジ株式会社", t0.Add(2*time.Hour))
	if len(ws) != 1 {
		t.Fatalf("spellings of one company kept apart: %+v", ws)
	}
	if got := Above(ws, t0.Add(3*time.Hour)); len(got) != 1 || got[0] != "北海物産ロジ株式会社" {
		t.Fatalf("three deliveries: %v", got)
	}
	if got := Above(ws, t0.Add(LearnHalfLife/2)); len(got) != 0 {
		t.Fatalf("not decayed after half a half-life: %v (%+v)", got, ws)
	}
	for i := range 2 * LearnMaxNames {
		ws = Observe(ws, "会社"+string(rune('A'+i))+"株式会社", t0.Add(time.Duration(i)*time.Minute))
	}
	if len(ws) != LearnMaxNames {
		t.Fatalf("%d names kept, bound %d", len(ws), LearnMaxNames)
	}
	if ws2 := Observe(ws, "佐藤", t0); len(ws2) != len(ws) {
		t.Fatal("a name without a company key was kept")
	}
}

type fixedLearned map[string][]string

func (f fixedLearned) NamesFor(d string) []string { return f[d] }

func TestCompareLearned(t *testing.T) {
	t.Parallel()
	d, err := NewDirectory([]Company{{Name: "株式会社北海物産", Domains: []string{"hokkai.co.jp"}},
		{Name: "南海商事株式会社", Domains: []string{"nankai.co.jp"}}})
	if err != nil {
		t.Fatal(err)
	}
	l := fixedLearned{"hokkai-logi.co.jp": {"北海物産ロジ株式会社"}, "hokkai-tokyo.jp": {"株式会社北海物産"},
		"nankai.co.jp": {"株式会社北海物産"}} // the directory wins over learning
	named := d.Names([]byte("株式会社北海物産 御中\n\nお世話になっております。\n"))
	for _, tc := range []struct {
		domains []string
		want    string
	}{
		{[]string{"hokkai-logi.co.jp"}, "北海物産ロジ株式会社"},
		{[]string{"hokkai-tokyo.jp"}, ""},
		{[]string{"unknown.example"}, ""},
		{[]string{"nankai.co.jp"}, "南海商事株式会社"},
		{[]string{"hokkai.co.jp"}, ""},
	} {
		got := d.CompareLearned(named, tc.domains, l)
		switch {
		case tc.want == "" && len(got) != 0, tc.want != "" && (len(got) != 1 || got[0].Recipient != tc.want || got[0].Named != "株式会社北海物産"):
			t.Errorf("%v: %+v, want %q", tc.domains, got, tc.want)
		}
	}
	if got := d.CompareLearned(nil, []string{"hokkai-logi.co.jp"}, l); len(got) != 0 {
		t.Errorf("nothing named, yet %+v", got)
	}
}

func TestQuotedSignatures(t *testing.T) {
	t.Parallel()
	reply := "佐藤様\n\n承知しました。\n\n株式会社自社\n鈴木\n\n" +
		"On 2026/12/01 10:00, 佐藤 一郎 <sato@Hokkai-Logi.co.jp> wrote:\n" +
		"> お見積りをお願いします。\n> \n> --\n> 北海物産ロジ株式会社 物流部\n> 佐藤 一郎\n" +
		"> 弊社は株式会社北海物産のグループ会社で、物流を担当しております。\n" +
		"> -----Original Message-----\n> 差出人: 社内 太郎\n> 株式会社自社 営業部\n"
	got := QuotedSignatures([]byte(reply))
	want := []QuotedSignature{{Domain: "hokkai-logi.co.jp", Name: "北海物産ロジ株式会社"}}
	if len(got) != len(want) || got[0] != want[0] {
		t.Fatalf("QuotedSignatures = %+v, want %+v (the own signature above the quote, a sentence naming a company and a quote without an address teach nothing)", got, want)
	}
	if got := QuotedSignatures([]byte("株式会社北海物産\n佐藤様\n\nお世話になります。\n")); len(got) != 0 {
		t.Fatalf("no quote, yet %+v", got)
	}
}
