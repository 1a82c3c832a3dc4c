package rewrite

import "testing"

func TestParseParamsFilenames(t *testing.T) {
	cases := map[string]string{
		`attachment; filename="plain name.pdf"`:                                         "plain name.pdf",
		`attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D.pdf`:                           "見積.pdf",
		`attachment; filename*0*=ISO-2022-JP''%1B%24B8%2B%40Q%1B%28B; filename*1*=.pdf`: "見積.pdf",
		`attachment; filename="=?ISO-2022-JP?B?GyRCOCtAURsoQg==?=.pdf"`:                 "見積.pdf",
		"attachment; filename=\"\x8c\xa9\x90\xcf.pdf\"":                                 "見積.pdf",
		`attachment; filename="fallback.pdf"; filename*=UTF-8''%E8%A6%8B%E7%A9%8D.pdf`:  "見積.pdf",
		`attachment; FILENAME*0="a"; filename*1="b.txt"`:                                "ab.txt",
		`attachment; filename="semi;colon.txt"`:                                         "semi;colon.txt",
		`attachment; filename*=X-UNKNOWN''%41.txt`:                                      "A.txt",
	}
	for in, want := range cases {
		_, p := parseParams(in)
		if p["filename"] != want {
			t.Errorf("%s: got %q, want %q", in, p["filename"], want)
		}
	}
}
