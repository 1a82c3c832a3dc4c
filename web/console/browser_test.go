package console

import (
	"context"
	"github.com/sendguard/sendguard/internal/browsertest"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
)

// TestBrowserConsole drives e2e/console.mjs in the system Chromium: sign in
// with password and TOTP, filter the queue, release one message, reject
// another, see the bulk confirmation, verify and export the audit log, and
// save screenshots of every main page under test-artifacts/console/.
func TestBrowserConsole(t *testing.T) {
	node, script := browsertest.Script(t, "console.mjs")
	root := browsertest.Root(t)

	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	// The real inspector, keeping raw values as `check -reveal` does, so
	// the test shows the console drops them.
	insp, err := inspect.New(inspect.Config{InternalDomains: []string{"example.com"}, PartnerDomains: []string{"partner.co.jp"}, Policy: pol, Reveal: true})
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) {
		c.Location = tokyo
		c.Policy = pol.Rules()
		c.Test = func(ctx context.Context, r io.Reader) (*inspect.Result, error) {
			return insp.Inspect(ctx, r, inspect.Envelope{})
		}
	})
	eml := filepath.Join(t.TempDir(), "test.eml")
	err = os.WriteFile(eml, []byte("From: suzuki@example.com\r\nTo: yamada@partner.co.jp\r\nSubject: =?UTF-8?B?5YCL5Lq655Wq5Y+3?=\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n山田様\r\nマイナンバー（個人番号）: 1234 5678 9018\r\nよろしくお願いします。\r\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	e.addUser("tanaka", RoleAdmin)
	ext := func(addr, name string) rules.Recipient {
		return rules.Recipient{Address: addr, Name: name, Field: "to", Domain: addr[strings.IndexByte(addr, '@')+1:], External: true, Envelope: true}
	}
	in := func(addr string) rules.Recipient {
		return rules.Recipient{Address: addr, Field: "cc", Domain: "example.com", Envelope: true}
	}
	mynum := []rules.Finding{{Detector: "mynumber", Count: 52, Records: 52, Location: "attachment:顧客一覧.xlsx", Samples: []string{"1234********", "5678********"}},
		{Detector: "jp_address", Count: 48, Location: "attachment:顧客一覧.xlsx", Samples: []string{"東京都千代田区****"}}}
	htmlBody := "From: =?UTF-8?B?6Yi05pyoIOS4gOmDjg==?= <suzuki@example.com>\r\nTo: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <yamada@partner.co.jp>\r\nCc: sato@example.com\r\n" +
		"Subject: =?UTF-8?B?44CQ56S+5aSW56eY44CR6aGn5a6i5LiA6Kan44Gu6YCB5LuY77yI56K66KqN55So77yJ?=\r\nDate: Fri, 20 Nov 2026 15:00:00 +0900\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n山田様\r\n\r\nいつもお世話になっております。\r\nご依頼の顧客一覧を添付いたします。\r\nご確認のほどよろしくお願いいたします。\r\n\r\n鈴木\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>山田様</p><p>いつもお世話になっております。<br>ご依頼の<b>顧客一覧</b>を添付いたします。</p>" +
		"<p>ご確認のほどよろしくお願いいたします。</p><img src=\"https://track.example/p.gif\"><script>alert(1)</script><p>鈴木</p>\r\n--b--\r\n"
	release := e.seed(msg{subject: "【社外秘】顧客一覧の送付（確認用）", sender: "suzuki@example.com", findings: mynum, age: 3 * time.Hour, body: htmlBody,
		rcpts: []rules.Recipient{ext("yamada@partner.co.jp", "山田 太郎"), in("sato@example.com")},
		atts:  []rules.Attachment{{Name: "顧客一覧.xlsx", Location: "attachment:顧客一覧.xlsx", Type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Size: 48213}}})
	reject := e.seed(msg{subject: "Re: 見積書 <script>alert(1)</script>", sender: "ito@example.com", kind: hold.KindSender, rules: []string{"lookalike"},
		rcpts: []rules.Recipient{ext("buyer@exarnple.com", "<img src=x onerror=alert(1)>")}, age: 2 * time.Hour,
		lookalike: []rules.Lookalike{{Address: "buyer@exarnple.com", Resembles: "example.com", Reason: "homoglyph rn/m"}},
		findings:  []rules.Finding{{Detector: "credit_card", Count: 1, Location: "body", Samples: []string{"4111********1111"}}}})
	e.seed(msg{subject: "Q4 price list for all distributors", sender: "kato@example.com", rules: []string{"mass-exposure"}, kind: hold.KindSender, age: time.Hour,
		rcpts: []rules.Recipient{ext("a@dist-one.example", ""), ext("b@dist-two.example", ""), ext("c@dist-three.example", ""), ext("d@dist-four.example", ""), ext("e@dist-five.example", "")}})
	e.seed(msg{subject: "給与明細（11月分）", sender: "hr@example.com", findings: []rules.Finding{{Detector: "bank_account", Count: 3, Location: "body", Samples: []string{"普通 ****567"}}}, age: 30 * time.Minute,
		rcpts: []rules.Recipient{ext("tax@accounting-firm.co.jp", "会計事務所")}})

	shots := browsertest.Artifacts(t, "console")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	downloads := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Join(root, "e2e")
	cmd.Env = append(os.Environ(),
		"CONSOLE_URL="+e.srv.URL+"/console/",
		"CONSOLE_USER=tanaka", "CONSOLE_PASSWORD="+testPassword, "CONSOLE_CODE="+e.code("tanaka"),
		"RELEASE_SUBJECT=【社外秘】顧客一覧の送付（確認用）", "REJECT_SUBJECT=Re: 見積書",
		"REJECT_REASON=宛先ドメインが取引先と異なります（exarnple.com）", "FILTER_DOMAIN=partner.co.jp",
		"TEST_EML="+eml, "RAW_VALUE=9018", "ZONE=JST",
		"ARTIFACTS="+shots, "DOWNLOADS="+downloads, "USER_DATA_DIR="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("console.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("console.mjs: %v", err)
	}
	rec, err := e.hold.Get(context.Background(), release)
	if err != nil || rec.State != hold.StateReleased || rec.Mode != hold.ModeBcc || rec.DecidedBy.Name != "tanaka" {
		t.Fatalf("released message: %+v %v", rec, err)
	}
	if e.releases.Load() != 1 {
		t.Fatalf("OnRelease ran %d times", e.releases.Load())
	}
	rec, _ = e.hold.Get(context.Background(), reject)
	if rec.State != hold.StateRejected || rec.Reason != "宛先ドメインが取引先と異なります（exarnple.com）" {
		t.Fatalf("rejected message: %s %q", rec.State, rec.Reason)
	}
	csvOut, err := os.ReadFile(filepath.Join(downloads, "audit.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"seq,time,message_id", release + ",tanaka,admin", reject + ",tanaka,admin", "宛先ドメインが取引先と異なります", "signin"} {
		if !strings.Contains(string(csvOut), want) {
			t.Errorf("exported audit log lacks %q", want)
		}
	}
	for _, name := range []string{"01-login.png", "03-dashboard.png", "04-queue.png", "06-message.png", "06c-release-confirm.png", "10-audit.png", "11-policy.png",
		"12-queue-ja.png", "14-queue-ja-phone.png", "15-message-ja-phone.png"} {
		if st, err := os.Stat(filepath.Join(shots, name)); err != nil || st.Size() < 5000 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
