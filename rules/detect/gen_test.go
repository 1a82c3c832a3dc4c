package detect

import (
	"bytes"
	"fmt"
	"math/rand/v2"
)

// Generators for benchmarks and volume tests: deterministic (fixed seed)
// Japanese business text and customer lists with known PII.

var proseLines = []string{
	"いつもお世話になっております。株式会社サンプル営業部の田中です。",
	"先日のお打ち合わせでは貴重なお時間をいただき、誠にありがとうございました。",
	"ご依頼いただいておりました見積書を添付にてお送りいたしますので、ご査収のほどよろしくお願いいたします。",
	"納期につきましては2024年11月23日を予定しておりますが、状況により前後する可能性がございます。",
	"本件に関するお問い合わせは、担当窓口までご連絡くださいますようお願い申し上げます。",
	"第3四半期の売上は前年同期比12.5%増の1,234,567,890円となりました。",
	"注文番号 1234-5678-9012 の商品は本日出荷いたしました。伝票番号は 4697-2452-1234 です。",
	"次回の定例会議は12月5日(木) 14:00〜15:30、本社3階会議室Aにて開催いたします。",
	"システムのバージョンは v2.13.4 です。サーバー 192.168.10.25 の再起動を予定しています。",
	"Please find attached the revised proposal for the Q4 campaign; let us know your thoughts.",
	"お客様各位におかれましては、ますますご清栄のこととお慶び申し上げます。",
	"添付資料の内容をご確認のうえ、ご不明な点がございましたらお気軽にお問い合わせください。",
	"請求書番号 INV-2024-000123、お支払期限は月末となっております。",
	"弊社の新サービスは、大阪や京都、福岡など全国の主要都市で順次提供を開始いたします。",
	"品番 AB-1200-0033 の在庫は残りわずかとなっておりますので、お早めにご注文ください。",
	"以上、取り急ぎご連絡まで。今後ともどうぞよろしくお願いいたします。",
}

var (
	familyNames = []string{"山田", "鈴木", "佐藤", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"}
	givenNames  = []string{"太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔", "由美", "大輔", "愛"}
	places      = []string{"東京都千代田区千代田", "大阪府大阪市北区梅田", "神奈川県横浜市西区みなとみらい",
		"北海道札幌市中央区北一条西", "福岡県福岡市博多区博多駅前", "愛知県名古屋市中村区名駅"}
)

// piiLine returns one line of prose carrying personal data.
func piiLine(rng *rand.Rand) string {
	n := rng.IntN(10000)
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprintf("担当者の連絡先は 090-%04d-%04d、メールは user%d@example.co.jp です。", 1000+n%9000, 9999-n, n)
	case 1:
		return fmt.Sprintf("送付先：〒100-%04d %s%d-%d-%d %s様", n, places[n%len(places)], n%9+1, n%20+1, n%30+1, familyNames[n%10])
	case 2:
		return fmt.Sprintf("マイナンバー：%s を記載した書類を同封します。", withCheckDigit(rng))
	case 3:
		return fmt.Sprintf("TEL：０３－%04d－%04d（代表）までご連絡ください。", n, n)
	case 4:
		return fmt.Sprintf("振込先：みずほ銀行 本店 普通 %07d", n*37)
	}
	return "【社外秘】本資料は関係者外秘として取り扱ってください。"
}

// withCheckDigit returns a random 12-digit number with a valid My Number
// check digit, grouped 4-4-4.
func withCheckDigit(rng *rand.Rand) string {
	d := make([]byte, 12)
	for i := range 11 {
		d[i] = byte('0' + rng.IntN(10))
	}
	for c := byte('0'); c <= '9'; c++ {
		d[11] = c
		if myNumberValid(d) {
			break
		}
	}
	return fmt.Sprintf("%s-%s-%s", d[:4], d[4:8], d[8:])
}

// genProse returns about size bytes of business prose, one line in fifty
// carrying personal data.
func genProse(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.Grow(size + 512)
	for b.Len() < size {
		if rng.IntN(50) == 0 {
			b.WriteString(piiLine(rng))
		} else {
			b.WriteString(proseLines[rng.IntN(len(proseLines))])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// genCustomerCSV returns a UTF-8 customer list of rows rows.
func genCustomerCSV(rows int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	var b bytes.Buffer
	b.WriteString("顧客ID,氏名,郵便番号,住所,電話番号,メールアドレス,生年月日,備考\r\n")
	for i := range rows {
		fam, giv := familyNames[rng.IntN(10)], givenNames[rng.IntN(10)]
		fmt.Fprintf(&b, "C%06d,%s %s,%03d-%04d,%s%d-%d-%d,0%d0-%04d-%04d,cust%06d@example.ne.jp,19%02d/%02d/%02d,\"%s\"\r\n",
			i, fam, giv, rng.IntN(1000), rng.IntN(10000), places[rng.IntN(len(places))], rng.IntN(9)+1,
			rng.IntN(20)+1, rng.IntN(30)+1, 7+rng.IntN(3), 1000+rng.IntN(9000), rng.IntN(10000), i,
			50+rng.IntN(50), rng.IntN(12)+1, rng.IntN(28)+1, proseLines[rng.IntN(6)])
	}
	return b.Bytes()
}
