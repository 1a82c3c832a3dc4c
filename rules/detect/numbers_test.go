package detect

import (
	"strings"
	"testing"
)

func TestMyNumber(t *testing.T) {
	v := []string{"123456789018"}
	runDetCases(t, MyNumber, []detCase{
		{"context plain", "マイナンバー：123456789018", v},
		{"context after", "123456789018（個人番号）", v},
		{"english context", "My Number: 123456789018", v},
		{"grouping 4-4-4 hyphen", "1234-5678-9018", v},
		{"grouping 4-4-4 space", "番号 1234 5678 9018 です", v},
		{"full-width digits", "個人番号　１２３４５６７８９０１８", v},
		{"full-width hyphens", "１２３４－５６７８－９０１８", v},
		{"dash variants", "1234‐5678―9018 / 1234−5678–9018 / 1234ー5678ー9018 / 1234ｰ5678ｰ9018", v},
		{"ideographic spaces", "1234　5678　9018", v},
		{"context on previous line", "マイナンバーは以下のとおりです。\n123456789018\n", v},
		{"two numbers", "個人番号 123456789018 と 個人番号 000000000019", []string{"123456789018", "000000000019"}},
		{"bad check digit with context", "マイナンバー 123456789012", nil},
		{"bad check digit grouped", "1234-5678-9012", nil},
		{"no context ungrouped", "123456789018", nil},
		{"order number", "注文番号：1234-5678-9018", nil},
		{"tracking number", "お問い合わせ番号 1234-5678-9018", nil},
		{"slip number", "伝票番号 123456789018", nil},
		{"invoice english", "Invoice 1234-5678-9018", nil},
		{"tracking english", "Tracking: 1234 5678 9018", nil},
		{"nearest context wins", "マイナンバー欄の下、注文番号 123456789018", nil},
		{"code with letters", "個人番号 ABC123456789018", nil},
		{"amount", "個人番号 123456789018円", nil},
		{"decimal", "個人番号 123456789018.5", nil},
		{"longer digit run", "マイナンバー 1234567890180", nil},
		// The label window counts characters, not lines.
		{"context three lines up", "マイナンバー\n\n\n123456789018", []string{"123456789018"}},
		{"context beyond the window", "マイナンバー\n" + strings.Repeat("ご確認ください。", 20) + "\n123456789018", nil},
		{"contrary label between", "マイナンバーは不要です。\n注文番号\n\n123456789018", nil},
		{"cut from a longer grouping", "4111 1111 1111 1112", nil},
		{"cut from a 20-digit reference", "1234 5678 9012 3456 7890", nil},
		{"list of valid values", "番号は 123456789018 です。\n配偶者様は 847080269628 です。", []string{"123456789018", "847080269628"}},
		{"list spoiled by an invalid value", "123456789018\n847080269628\n123456789012", nil},
		{"single unlabelled value", "123456789018", nil},
		{"phone context", "電話 1234-5678-9018", nil},
	})
}

func TestCorporateNumber(t *testing.T) {
	runDetCases(t, CorporateNumber, []detCase{
		{"context", "法人番号 7000012050002", []string{"7000012050002"}},
		{"grouped 1-4-4-4", "4-0110-0109-8993", []string{"4011001098993"}},
		{"invoice registration T", "登録番号：T4011001098993", []string{"4011001098993"}},
		{"full-width", "法人番号：７０００－０１２０－５０００２", nil}, // 4-4-5 is not a corporate grouping
		{"full-width plain", "法人番号：７００００１２０５０００２", []string{"7000012050002"}},
		{"bad check digit", "法人番号 7000012050003", nil},
		{"no context", "7000012050002", nil},
		{"order context", "注文番号 7-0000-1205-0002", nil},
	})
}

func TestCreditCard(t *testing.T) {
	visa := []string{"4111111111111111"}
	runDetCases(t, CreditCard, []detCase{
		{"plain", "4111111111111111", visa},
		{"4-4-4-4 hyphen", "カード番号: 4111-1111-1111-1111", visa},
		{"4-4-4-4 space", "card 4111 1111 1111 1111 exp 12/28", visa},
		{"full-width", "４１１１　１１１１　１１１１　１１１１", visa},
		{"full-width hyphen", "４１１１－１１１１－１１１１－１１１１", visa},
		{"mastercard", "5555555555554444", []string{"5555555555554444"}},
		{"mastercard 2-series", "2223003122003222", []string{"2223003122003222"}},
		{"amex 4-6-5", "AMEX 3782-822463-10005", []string{"378282246310005"}},
		{"jcb", "JCB 3530111333300000", []string{"3530111333300000"}},
		{"diners 4-6-4", "3056-930902-5904", []string{"30569309025904"}},
		{"two cards", "4111111111111111 / 5555-5555-5555-4444", []string{"4111111111111111", "5555555555554444"}},
		{"luhn fails", "4111111111111112", nil},
		{"order number failing luhn", "注文番号 1234567812345678", nil},
		{"order number passing luhn", "注文番号 4111111111111111", nil},
		{"unknown issuer", "9111111111111117", nil},
		{"wrong grouping", "41111-11111-111111", nil},
		{"too long", "41111111111111111111", nil},
		{"in product code", "SKU-4111111111111111", nil},
		{"ip-like", "4111.1111.1111.1111", nil},
	})
}

func TestPhone(t *testing.T) {
	runDetCases(t, JPPhone, []detCase{
		{"mobile hyphen", "携帯 090-1234-5678", []string{"09012345678"}},
		{"mobile plain", "08012345678", []string{"08012345678"}},
		{"mobile 070", "070-1111-2222", []string{"07011112222"}},
		{"landline 2-4-4", "03-1234-5678", []string{"0312345678"}},
		{"landline 3-3-4", "045-123-4567", []string{"0451234567"}},
		{"landline 4-2-4", "0467-12-3456", []string{"0467123456"}},
		{"landline 5-1-4", "01267-2-3456", []string{"0126723456"}},
		{"parens", "TEL:03(1234)5678", []string{"0312345678"}},
		{"glued label", "TEL03-1234-5678 FAX06-1234-5678", []string{"0312345678", "0612345678"}},
		{"dotted label", "Tel.03-1234-5678 / Fax.03-1234-5679", []string{"0312345678", "0312345679"}},
		{"dotted code", "No.03-1234-5678", nil},
		{"full-width dotted label", "ＴＥＬ．０３－１２３４－５６７８", []string{"0312345678"}},
		{"glued word is not a label", "HOTEL03-1234-5678", nil},
		{"leading parens", "（03）1234-5678", []string{"0312345678"}},
		{"free dial", "0120-123-456", []string{"0120123456"}},
		{"0800", "0800-123-4567", []string{"08001234567"}},
		{"full-width", "電話：０９０－１２３４－５６７８", []string{"09012345678"}},
		{"katakana long vowel dash", "090ー1234ー5678", []string{"09012345678"}},
		{"spaces", "090 1234 5678", []string{"09012345678"}},
		{"+81 mobile", "+81 90-1234-5678", []string{"09012345678"}},
		{"+81 landline", "+81-3-1234-5678", []string{"0312345678"}},
		{"+81 full-width", "＋８１ ９０ １２３４ ５６７８", []string{"09012345678"}},
		{"two phones space separated", "03-1234-5678 090-1234-5678", []string{"0312345678", "09012345678"}},
		{"bare 10 digits with context", "TEL 0312345678", []string{"0312345678"}},
		{"bare 10 digits without context", "0312345678", nil},
		{"product code", "型番 090-1234-5678", nil},
		{"wrong grouping", "0901-234-5678", nil},
		{"mobile too short", "090-123-4567", nil},
		{"not starting with 0", "190-1234-5678", nil},
		{"date", "2024-11-23", nil},
		{"time", "2024-11-23 10:00:00", nil},
		{"ip address", "192.168.100.200", nil},
		{"version", "v10.12.1234", nil},
		{"email local part", "09012345678@docomo.ne.jp", nil},
		{"amount", "0312345678円", nil},
		{"line break splits", "090-1234\n-5678", nil},
		{"csv cells", "090,1234,5678", nil},
	})
}

func TestPostalCode(t *testing.T) {
	runDetCases(t, PostalCode, []detCase{
		{"mark", "〒100-0001", []string{"1000001"}},
		{"mark full-width", "〒１００－０００１", []string{"1000001"}},
		{"mark no hyphen", "〒1000001", []string{"1000001"}},
		{"label", "郵便番号：100-0001", []string{"1000001"}},
		{"address follows", "100-0001 東京都千代田区千代田1-1", []string{"1000001"}},
		{"address label", "住所 530-0001 大阪市北区梅田", []string{"5300001"}},
		{"no context", "100-0001", nil},
		{"bare 7 digits", "1000001", nil},
		{"product code", "品番 100-0001", nil},
		{"postal word but 8 digits", "〒1000-0001", nil},
	})
}

func TestBankAccount(t *testing.T) {
	runDetCases(t, BankAccount, []detCase{
		{"full context", "みずほ銀行 渋谷支店 普通 1234567", []string{"1234567"}},
		{"account label", "口座番号：１２３４５６７", []string{"1234567"}},
		{"current account", "当座 7654321", []string{"7654321"}},
		{"no context", "1234567", nil},
		{"postal mark wins", "銀行 〒123-4567", nil},
		{"six digits", "口座番号 123456", nil},
		{"order", "口座 注文番号 1234567", nil},
	})
}

func TestPassport(t *testing.T) {
	runDetCases(t, Passport, []detCase{
		{"context", "旅券番号 TK1234567", []string{"TK1234567"}},
		{"english", "Passport No. TR7654321", []string{"TR7654321"}},
		{"full-width", "パスポート：ＴＫ１２３４５６７", []string{"TK1234567"}},
		{"no context", "TK1234567", nil},
		{"three letters", "パスポート ATK1234567", nil},
		{"lower case", "パスポート tk1234567", nil},
		{"eight digits", "パスポート TK12345678", nil},
	})
}

func TestDriversLicense(t *testing.T) {
	runDetCases(t, DriversLicense, []detCase{
		{"context", "運転免許証番号 123456789012", []string{"123456789012"}},
		{"grouped", "免許証 1234-5678-9012", []string{"123456789012"}},
		{"english", "Driver's License: 301234567890", []string{"301234567890"}},
		{"no context", "123456789012", nil},
		{"wrong length", "免許 12345678901", nil},
	})
}
