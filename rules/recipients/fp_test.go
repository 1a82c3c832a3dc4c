package recipients

import "testing"

// TestLookalikePrecision runs a realistic configuration against domains
// Japanese companies mail every day: none may be flagged, while the same
// brands under another suffix are (partners list their sister domains).
func TestLookalikePrecision(t *testing.T) {
	c := NewLookalikeChecker("sendguard.co.jp", "*.sendguard.co.jp", "toyota.co.jp", "sony.co.jp", "hitachi.co.jp",
		"nttdata.co.jp", "mufg.jp", "smbc.co.jp", "kddi.com", "ntt.com", "nec.com", "fujitsu.com", "docomo.ne.jp",
		"mizuho-fg.co.jp", "line.me", "partner.co.jp")
	unrelated := []string{
		"gmail.com", "yahoo.co.jp", "outlook.com", "outlook.jp", "hotmail.com", "icloud.com", "me.com", "ezweb.ne.jp",
		"au.com", "softbank.ne.jp", "i.softbank.jp", "nifty.com", "biglobe.ne.jp", "ocn.ne.jp", "so-net.ne.jp",
		"amazon.co.jp", "rakuten.co.jp", "google.com", "microsoft.com", "apple.com", "salesforce.com", "zoom.us",
		"slack.com", "box.com", "dropbox.com", "github.com", "gitlab.com", "atlassian.net", "nikkei.com", "asahi.com",
		"yomiuri.co.jp", "nhk.or.jp", "u-tokyo.ac.jp", "kyoto-u.ac.jp", "keio.jp", "waseda.jp", "mhlw.go.jp",
		"meti.go.jp", "city.yokohama.lg.jp", "pref.osaka.lg.jp", "honda.co.jp", "nissan.co.jp", "mazda.co.jp",
		"panasonic.com", "sharp.co.jp", "toshiba.co.jp", "canon.co.jp", "nikon.co.jp", "ricoh.co.jp", "kyocera.co.jp",
		"denso.com", "toyota-tsusho.com", "hitachi-solutions.co.jp", "nttdocomo.co.jp", "ntt-east.co.jp",
		"ntt-west.co.jp", "nttcom.co.jp", "kddi-research.jp", "smbc-card.com", "mizuho.co.jp", "resona-gr.co.jp",
		"jcb.co.jp", "visa.co.jp", "linecorp.com", "lin.ee", "nes.com", "ntc.com", "fujifilm.com", "smbcnikko.co.jp",
		"daiwa.co.jp", "nomura.co.jp", "sompo-japan.co.jp", "tokiomarine-nichido.co.jp", "aeon.co.jp", "7andi.com",
		"lawson.co.jp", "familymart.co.jp", "uniqlo.com", "muji.com", "recruit.co.jp", "mynavi.jp", "doda.jp",
		"en-japan.com", "cybozu.com", "freee.co.jp", "moneyforward.com", "sansan.com", "chatwork.com", "sakura.ne.jp",
		"xserver.jp", "onamae.com", "gmo.jp", "exemple.fr", "samples.com", "partners.example.org",
	}
	for _, d := range unrelated {
		if m, ok := c.Check(d); ok {
			t.Errorf("Check(%q) = %+v, want no match", d, m)
		}
	}
	sisters := map[string]string{
		"nttdata.com": "nttdata.co.jp", "mufg.co.jp": "mufg.jp", "sony.net": "sony.co.jp", "nec.co.jp": "nec.com",
		"fujitsu.co.jp": "fujitsu.com", "docomo.com": "docomo.ne.jp", "line.biz": "line.me",
	}
	for d, want := range sisters {
		if m, ok := c.Check(d); !ok || m.Resembles != want {
			t.Errorf("Check(%q) = %+v, %v; want a tld swap of %s", d, m, ok, want)
		}
	}
}
