package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtureDir = "../../testdata/rules"

// walkBytes walks data and returns the message and copies of the parts.
func walkBytes(t testing.TB, data []byte, lim Limits) (*Message, []Part) {
	t.Helper()
	var parts []Part
	msg, err := Walk(context.Background(), bytes.NewReader(data), lim, func(p *Part) error {
		c := *p
		c.Text = append([]byte(nil), p.Text...)
		if p.Attachment != nil {
			a := *p.Attachment
			c.Attachment = &a
		}
		parts = append(parts, c)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return msg, parts
}

func walkFixture(t testing.TB, name string, lim Limits) (*Message, []Part) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return walkBytes(t, data, lim)
}

// part returns the n-th part at loc (several body parts share "body").
func part(t *testing.T, parts []Part, loc string, n int) Part {
	t.Helper()
	for _, p := range parts {
		if p.Location == loc {
			if n == 0 {
				return p
			}
			n--
		}
	}
	var locs []string
	for _, p := range parts {
		locs = append(locs, p.Location)
	}
	t.Fatalf("no part %q (#%d) in %q", loc, n, locs)
	return Part{}
}

func wantText(t *testing.T, p Part, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(string(p.Text), s) {
			t.Errorf("%s: text lacks %q:\n%s", p.Location, s, p.Text)
		}
	}
}

func noText(t *testing.T, p Part, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(string(p.Text), s) {
			t.Errorf("%s: text has %q:\n%s", p.Location, s, p.Text)
		}
	}
}

func wantLocations(t *testing.T, parts []Part, locs ...string) {
	t.Helper()
	var got []string
	for _, p := range parts {
		got = append(got, p.Location)
	}
	if strings.Join(got, "|") != strings.Join(locs, "|") {
		t.Errorf("locations:\n got %q\nwant %q", got, locs)
	}
}

func wantNoErrors(t *testing.T, m *Message) {
	t.Helper()
	if len(m.Errors) > 0 || m.Incomplete {
		t.Errorf("errors %q incomplete %v", m.Errors, m.Incomplete)
	}
}

func wantError(t *testing.T, m *Message, sub string) {
	t.Helper()
	for _, e := range m.Errors {
		if strings.Contains(e, sub) {
			return
		}
	}
	t.Errorf("no error containing %q in %q", sub, m.Errors)
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, m *Message, parts []Part)
	}{
		{"iso2022jp.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			wantLocations(t, parts, "body")
			if m.Subject != "登録完了のご連絡" {
				t.Errorf("subject %q", m.Subject)
			}
			p := parts[0]
			if p.Charset != "iso-2022-jp" || p.Attachment != nil {
				t.Errorf("charset %q attachment %v", p.Charset, p.Attachment)
			}
			wantText(t, p, "マイナンバー 8470 8026 9628", "03-1234-5678", "東京都港区芝公園", "社外秘")
			if !strings.Contains(m.From, "yamada@example.com") || m.MessageID == "" {
				t.Errorf("from %q message-id %q", m.From, m.MessageID)
			}
		}},
		{"shiftjis.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			wantLocations(t, parts, "body", "body")
			if m.Subject != "会議資料" {
				t.Errorf("subject %q", m.Subject)
			}
			// CP932 extensions (NEC row 13) under a Shift_JIS label
			wantText(t, parts[0], "①本日の会議資料", "㈱サンプル商事", "4539 1488 0343 6467")
			html := parts[1]
			if html.ContentType != "text/html" {
				t.Errorf("html part type %q", html.ContentType)
			}
			wantText(t, html, "①本日の会議資料&議事録", "佐藤 太郎\t090-1111-2222")
			noText(t, html, "DROPPED", "color:red", "<p>")
		}},
		{"rfc2231-filename.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			wantLocations(t, parts, "body", "attachment:見積書_2026年度.txt", "attachment:請求書.txt", "attachment:注文書.txt")
			wantText(t, parts[1], "鈴木 花子")
			wantText(t, parts[2], "請求金額: 300,000円")
			if parts[3].Attachment.DeclaredType != "application/octet-stream" || parts[3].Attachment.Type != "text/plain" {
				t.Errorf("sniffed %+v", parts[3].Attachment)
			}
		}},
		{"customers-csv-sjis.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			csv := part(t, parts, "attachment:顧客リスト.csv", 0)
			if !csv.Tabular || csv.Charset != "shift_jis" || csv.Attachment.Type != "text/csv" {
				t.Errorf("tabular %v charset %q type %q", csv.Tabular, csv.Charset, csv.Attachment.Type)
			}
			if n := strings.Count(strings.TrimSpace(string(csv.Text)), "\n") + 1; n != 61 {
				t.Errorf("%d lines, want 61", n)
			}
			wantText(t, csv, "氏名,郵便番号,住所,電話,メール,マイナンバー", "佐藤 太郎,100-0000,東京都千代田区丸の内1-1-1")
			if csv.Attachment.Size != 6273 {
				t.Errorf("size %d", csv.Attachment.Size)
			}
		}},
		{"xlsx-pii.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			x := part(t, parts, "attachment:社員名簿.xlsx", 0)
			if !x.Tabular || x.Attachment.Type != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
				t.Errorf("tabular %v type %q", x.Tabular, x.Attachment.Type)
			}
			lines := strings.Split(strings.TrimSpace(string(x.Text)), "\n")
			// 56 rows on the first sheet, 6 (+1 with a far cell) on the second
			if len(lines) != 56+6+1 {
				t.Errorf("%d lines", len(lines))
			}
			wantText(t, x, "氏名\t住所\t電話\tメール", "佐藤 太郎\t東京都千代田区丸の内1-1-1\t090-1000-5000", "個人番号", "000000392561\t1000", "社外秘")
		}},
		{"docx.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			d := part(t, parts, "attachment:契約書.docx", 0)
			if d.Attachment.DeclaredType != "application/msword" || !strings.Contains(d.Attachment.Type, "wordprocessingml") {
				t.Errorf("types %+v", d.Attachment)
			}
			wantText(t, d, "甲: 株式会社サンプル 代表 高橋 一郎", "個人番号: 551234087637", "口座 \t普通 1234567",
				"削除された電話 03-9999-0000", "社外秘", "taro@example.net", "090-1234-5678")
			if i, j := strings.Index(string(d.Text), "契約書"), strings.Index(string(d.Text), "社外秘"); i > j {
				t.Errorf("document text should come before the header")
			}
		}},
		{"pdf-ja.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			p := part(t, parts, "attachment:住民票.pdf", 0)
			if p.Unscannable != "" || p.Attachment.Type != "application/pdf" {
				t.Fatalf("unscannable %q type %q", p.Unscannable, p.Attachment.Type)
			}
			wantText(t, p, "Customer record", "氏名 中村 美咲 個人番号 551234087637 住所 福岡県福岡市")
		}},
		{"zip-csv.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			wantLocations(t, parts, "body", "attachment:customers.zip/data/顧客.csv", "attachment:customers.zip/readme.txt", "attachment:customers.zip")
			c := parts[1]
			if !c.Tabular || c.Attachment.Depth != 1 || c.Attachment.Name != "data/顧客.csv" {
				t.Errorf("inner csv %+v tabular %v", c.Attachment, c.Tabular)
			}
			wantText(t, c, "マイナンバー", "000000392561")
			z := parts[3].Attachment
			if !z.Archive || z.Depth != 0 || z.Encrypted || z.Unscannable != "" {
				t.Errorf("zip %+v", z)
			}
		}},
		{"zip-encrypted.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			wantLocations(t, parts, "body", "attachment:給与明細.zip/secret.csv", "attachment:給与明細.zip/給与.xlsx", "attachment:給与明細.zip")
			for _, p := range parts[1:] {
				if !p.Attachment.Encrypted || p.Unscannable == "" || p.Attachment.Unscannable != p.Unscannable {
					t.Errorf("%s: encrypted %v unscannable %q", p.Location, p.Attachment.Encrypted, p.Unscannable)
				}
			}
		}},
		{"zip-bomb.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			p := part(t, parts, "attachment:report.zip/report.csv", 0)
			if !strings.Contains(p.Unscannable, "zip bomb") || len(p.Text) != 0 {
				t.Errorf("bomb entry: unscannable %q, %d bytes of text", p.Unscannable, len(p.Text))
			}
		}},
		{"mass-cc.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			addrs, err := m.Header.AddressList("Cc")
			if err != nil || len(addrs) != 30 {
				t.Errorf("cc: %d addresses, %v", len(addrs), err)
			}
			if strings.Count(m.Cc, "@") != 30 || m.Subject != "セミナーのご案内" {
				t.Errorf("cc %q subject %q", m.Cc, m.Subject)
			}
		}},
		{"lookalike.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			to, err := m.Header.AddressList("To")
			if err != nil || len(to) != 2 || to[0].Address != "yamamoto@exarnple.com" || to[0].Name != "山本" {
				t.Errorf("to %v %v", to, err)
			}
			if !strings.Contains(m.Cc, "finance@examp1e.com") {
				t.Errorf("cc %q", m.Cc)
			}
		}},
		{"broken-mime.eml", func(t *testing.T, m *Message, parts []Part) {
			wantLocations(t, parts, "body", "attachment:corrupt.txt", "attachment:odd.txt", "body")
			wantError(t, m, "malformed MIME header line")
			wantError(t, m, "unknown charset x-no-such-charset")
			wantError(t, m, "base64: 4 invalid characters skipped")
			wantError(t, m, "unknown transfer encoding")
			wantError(t, m, "missing final boundary")
			wantText(t, parts[0], "電話 03-5555-6666")
			wantText(t, parts[1], "壊れたbase64の中身 4929812345678005")
			wantText(t, parts[2], "raw text under an unknown encoding")
			wantText(t, parts[3], "最後の部分 =ZZ bad escape and truncated")
		}},
		{"forwarded-message.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			const fwd = "attachment:part-1.eml"
			wantLocations(t, parts, "body", fwd, fwd+"/明細.zip/明細.txt", fwd+"/明細.zip", fwd)
			if parts[1].Attachment != nil {
				t.Errorf("inner body should be body text")
			}
			wantText(t, parts[1], "080-1111-2222")
			wantText(t, parts[2], "口座 普通 7654321")
			if parts[2].Attachment.Depth != 2 || parts[3].Attachment.Depth != 1 {
				t.Errorf("depths %d %d", parts[2].Attachment.Depth, parts[3].Attachment.Depth)
			}
			c := parts[4]
			if c.Attachment.Type != "message/rfc822" || c.Attachment.Depth != 0 {
				t.Errorf("container %+v", c.Attachment)
			}
			wantText(t, c, "Subject: 問い合わせ", "From: customer@partner.co.jp")
		}},
		{"mixed-attachments.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			body := part(t, parts, "body", 0)
			if body.Charset != "euc-jp" {
				t.Errorf("body charset %q", body.Charset)
			}
			wantText(t, body, "本文はEUC-JPです。郵便番号 100-0005")
			tsv := part(t, parts, "attachment:一覧.tsv", 0)
			if !tsv.Tabular || tsv.Charset != "utf-16le" {
				t.Errorf("utf-16 tsv: tabular %v charset %q", tsv.Tabular, tsv.Charset)
			}
			wantText(t, tsv, "田中 健太\t03-1111-2222")
			memo := part(t, parts, "attachment:memo.txt", 0)
			if memo.Charset != "euc-jp" {
				t.Errorf("memo charset %q", memo.Charset)
			}
			wantText(t, memo, "運転免許証番号 123456789012")
			html := part(t, parts, "attachment:page.html", 0)
			wantText(t, html, "ページ本文 <重要>")
			noText(t, html, "alert")
			wantText(t, part(t, parts, "attachment:data.json", 0), `"name":"小林 花子"`, `"memo":"機密"`)
			exe := part(t, parts, "attachment:setup.exe", 0)
			if !exe.Attachment.Executable || exe.Unscannable == "" {
				t.Errorf("exe %+v", exe.Attachment)
			}
			ppt := part(t, parts, "attachment:slides.pptx", 0)
			wantText(t, ppt, "スライド2: 担当 渡辺 陽子\nスライド10: 売上目標", "ノート: 090-2222-3333")
			pdf := part(t, parts, "attachment:locked.pdf", 0)
			if !pdf.Attachment.Encrypted || pdf.Unscannable != "encrypted PDF" {
				t.Errorf("locked pdf %+v", pdf.Attachment)
			}
			doc := part(t, parts, "attachment:protected.docx", 0)
			if !doc.Attachment.Encrypted || doc.Unscannable != "encrypted Office document" || doc.Attachment.Type != "application/x-ole-storage" {
				t.Errorf("encrypted docx %+v", doc.Attachment)
			}
		}},
		{"labels.eml", func(t *testing.T, m *Message, parts []Part) {
			wantNoErrors(t, m)
			if m.Subject != "【社外秘】来期価格表の件" {
				t.Errorf("subject %q", m.Subject)
			}
			x := part(t, parts, "attachment:【社外秘】価格表.xlsx", 0)
			for _, w := range []string{"関係者外秘 価格改定案", "取扱注意"} {
				if !strings.Contains(string(x.Properties), w) {
					t.Errorf("xlsx properties %q lack %q", x.Properties, w)
				}
			}
			if strings.Contains(string(x.Properties), "sendguard") {
				t.Errorf("author in properties %q", x.Properties)
			}
			in := part(t, parts, "attachment:archive.zip/極秘/名簿.txt", 0)
			if in.Attachment.Name != "極秘/名簿.txt" {
				t.Errorf("member name %q", in.Attachment.Name)
			}
		}},
	}
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.eml"))
	if len(files) != len(tests) {
		t.Errorf("%d fixtures, %d tests: every fixture needs a check", len(files), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			m, parts := walkFixture(t, tc.file, DefaultLimits())
			if m.Parts != len(parts) {
				t.Errorf("Parts %d, yielded %d", m.Parts, len(parts))
			}
			for _, p := range parts {
				if p.Attachment != nil && p.Attachment.Location != p.Location {
					t.Errorf("attachment location %q vs part %q", p.Attachment.Location, p.Location)
				}
			}
			tc.check(t, m, parts)
		})
	}
}
