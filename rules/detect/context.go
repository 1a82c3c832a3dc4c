package detect

import "unicode/utf8"

// Context categories: what a nearby word (or a table column header) says a
// number is.
const (
	catNone uint8 = iota
	catName
	catEmail
	catAddress
	catBirth
	catGender
	catOther // non-personal labels (会社名, 商品名) that shadow shorter words
	catMyNumber
	catCorporate
	catCard
	catPhone
	catPostal
	catBank
	catPassport
	catLicense
	catPension   // 基礎年金番号
	catResidence // 在留カード
	catJuminhyo  // 住民票コード
	catInsurer   // 保険者番号 (the insurer, printed on every card of a plan)
	catInsured   // 被保険者記号・番号 (the insured person)
	catExample   // テスト用, サンプル, 記入例: a documented example, not data
	catNegative  // order, invoice, tracking, product and member numbers
)

// neutral reports categories that never veto a detector.
func neutral(c uint8) bool { return c <= catOther }

// personalCat reports categories that make a table column personal data.
func personalCat(c uint8) bool {
	switch c {
	case catName, catEmail, catAddress, catBirth, catGender, catMyNumber,
		catCard, catPhone, catPostal, catBank, catPassport, catLicense,
		catPension, catResidence, catJuminhyo, catInsurer, catInsured:
		return true
	}
	return false
}

// contextWords are matched case-insensitively (ASCII) on the raw bytes.
// ASCII words need a non-letter on both sides. When several words match,
// the one ending nearest the number wins, ties going to the longer word, so
// "ポイントカード番号" beats "カード番号".
var contextWords = []struct {
	w   string
	cat uint8
}{
	{"マイナンバー", catMyNumber}, {"個人番号", catMyNumber}, {"my number", catMyNumber},
	{"mynumber", catMyNumber}, {"my_number", catMyNumber}, {"my-number", catMyNumber},
	{"ﾏｲﾅﾝﾊﾞｰ", catMyNumber}, {"個人番号カード", catMyNumber}, {"マイナンバーカード", catMyNumber},
	{"通知カード", catMyNumber},

	{"法人番号", catCorporate}, {"corporate number", catCorporate}, {"corporate no", catCorporate},

	{"カード", catCard}, {"クレジット", catCard}, {"card", catCard}, {"visa", catCard},
	{"mastercard", catCard}, {"jcb", catCard}, {"amex", catCard}, {"有効期限", catCard},
	{"セキュリティコード", catCard}, {"credit", catCard}, {"カード番号", catCard},
	{"クレジットカード", catCard}, {"card number", catCard}, {"card no", catCard},

	{"基礎年金番号", catPension}, {"年金番号", catPension}, {"年金手帳", catPension},
	{"pension", catPension},
	{"在留カード", catResidence}, {"在留カード番号", catResidence}, {"在留番号", catResidence}, {"特別永住者証明書", catResidence},
	{"residence card", catResidence},
	{"住民票コード", catJuminhyo}, {"住民票番号", catJuminhyo},
	{"保険者番号", catInsurer}, {"insurer number", catInsurer},
	{"被保険者", catInsured}, {"被保険者番号", catInsured}, {"被保険者記号", catInsured},
	{"保険証", catInsured}, {"被保険者証", catInsured}, {"記号番号", catInsured},
	{"記号・番号", catInsured}, {"資格確認書", catInsured},

	{"電話", catPhone}, {"tel", catPhone}, {"携帯", catPhone}, {"phone", catPhone}, {"telephone", catPhone},
	{"fax", catPhone}, {"ファックス", catPhone}, {"ファクス", catPhone}, {"連絡先", catPhone},
	{"℡", catPhone}, {"☎", catPhone}, {"mobile", catPhone}, {"内線", catPhone},

	{"〒", catPostal}, {"郵便番号", catPostal}, {"郵便", catPostal}, {"zip", catPostal},
	{"zip code", catPostal}, {"postal", catPostal}, {"postcode", catPostal}, {"post code", catPostal},

	{"住所", catAddress}, {"所在地", catAddress}, {"address", catAddress}, {"住まい", catAddress},

	{"銀行", catBank}, {"支店", catBank}, {"口座", catBank}, {"普通", catBank}, {"当座", catBank},
	{"信用金庫", catBank}, {"信金", catBank}, {"ゆうちょ", catBank}, {"預金", catBank},
	{"bank", catBank}, {"account", catBank}, {"acct", catBank}, {"振込", catBank}, {"振込先", catBank},

	{"旅券", catPassport}, {"パスポート", catPassport}, {"passport", catPassport},

	{"免許", catLicense}, {"license", catLicense}, {"licence", catLicense},

	{"メール", catEmail}, {"mail", catEmail}, {"email", catEmail}, {"e-mail", catEmail},

	{"氏名", catName}, {"名前", catName}, {"フリガナ", catName}, {"ふりがな", catName},
	{"顧客名", catName}, {"会員名", catName}, {"宛名", catName}, {"姓名", catName},
	{"name", catName}, {"full name", catName}, {"first name", catName}, {"last name", catName},
	{"customer", catName},

	{"生年月日", catBirth}, {"誕生日", catBirth}, {"birth", catBirth}, {"birthday", catBirth},
	{"date of birth", catBirth}, {"dob", catBirth},
	{"性別", catGender}, {"gender", catGender}, {"sex", catGender},

	{"会社名", catOther}, {"商品名", catOther}, {"品名", catOther}, {"件名", catOther},
	{"company name", catOther}, {"product name", catOther}, {"file name", catOther},
	{"item name", catOther}, {"user name", catOther}, {"host name", catOther},

	{"注文番号", catNegative}, {"注文", catNegative}, {"ご注文", catNegative},
	{"伝票番号", catNegative}, {"伝票", catNegative}, {"送り状", catNegative},
	{"お問い合わせ番号", catNegative}, {"問い合わせ番号", catNegative}, {"問合せ番号", catNegative},
	{"お問合せ番号", catNegative}, {"追跡番号", catNegative}, {"配送番号", catNegative},
	{"請求書", catNegative}, {"請求番号", catNegative}, {"請求", catNegative}, {"見積", catNegative},
	{"受付番号", catNegative}, {"管理番号", catNegative}, {"品番", catNegative}, {"型番", catNegative},
	{"商品コード", catNegative}, {"商品番号", catNegative}, {"製品番号", catNegative},
	{"製造番号", catNegative}, {"シリアル", catNegative}, {"ロット", catNegative},
	{"取引番号", catNegative}, {"決済番号", catNegative}, {"予約番号", catNegative},
	{"会員番号", catNegative}, {"顧客番号", catNegative}, {"社員番号", catNegative},
	{"受注番号", catNegative}, {"発注番号", catNegative}, {"契約番号", catNegative},
	{"請求書番号", catNegative}, {"問合番号", catNegative}, {"案件番号", catNegative},
	{"証券番号", catNegative}, {"お客様番号", catNegative}, {"お客さま番号", catNegative},
	{"利用者番号", catNegative}, {"契約者番号", catNegative}, {"加入者番号", catNegative},
	{"申込番号", catNegative}, {"従業員番号", catNegative}, {"学籍番号", catNegative},
	{"患者番号", catNegative}, {"診察券番号", catNegative}, {"お問い合せ番号", catNegative},
	{"荷物番号", catNegative}, {"お届け番号", catNegative}, {"追跡", catNegative},
	{"宅急便", catNegative}, {"ゆうパック", catNegative}, {"ヤマト運輸", catNegative},
	{"佐川急便", catNegative},

	// Documentation markers, in phrases: a bare サンプル or テスト is as
	// often a company or project name (サンプル商事) as an example.
	{"テスト用", catExample}, {"テスト番号", catExample}, {"テストカード", catExample},
	{"テスト用カード番号", catExample}, {"テストデータ", catExample}, {"テスト環境", catExample},
	{"サンプルの", catExample}, {"サンプル用", catExample}, {"サンプル値", catExample},
	{"サンプルデータ", catExample}, {"サンプル番号", catExample}, {"（サンプル）", catExample},
	{"(サンプル)", catExample}, {"ダミー", catExample}, {"記入例", catExample},
	{"入力例", catExample}, {"見本", catExample}, {"架空の", catExample},
	{"検証用", catExample}, {"動作確認用", catExample}, {"記載例", catExample},
	{"例：", catExample}, {"例:", catExample}, {"例）", catExample}, {"例)", catExample},
	{"e.g.", catExample},
	{"test card", catExample}, {"test number", catExample}, {"sample number", catExample},
	{"for testing", catExample}, {"dummy", catExample}, {"sandbox", catExample},
	{"ポイントカード番号", catNegative}, {"会員カード番号", catNegative}, {"ポイントカード", catNegative},
	{"領収", catNegative}, {"レシート", catNegative}, {"チケット", catNegative}, {"バージョン", catNegative},
	{"order", catNegative}, {"invoice", catNegative}, {"tracking", catNegative},
	{"sku", catNegative}, {"item", catNegative}, {"ref", catNegative}, {"reference", catNegative},
	{"receipt", catNegative}, {"serial", catNegative}, {"lot", catNegative},
	{"jan", catNegative}, {"isbn", catNegative}, {"id", catNegative}, {"version", catNegative},
	{"ticket", catNegative}, {"transaction", catNegative}, {"booking", catNegative},
	{"コード", catNegative}, {"code", catNegative},
}

// topicWords are contrary words that name a subject (an order, an
// invoice) rather than label a number: 「ご注文のお支払いは 4111 …」 pays an
// order with a card. They veto ambiguous shapes, not a card number, which
// no order number resembles (issuer prefix, length and Luhn at once).
var topicWords = map[string]bool{
	"注文": true, "ご注文": true, "請求": true, "請求書": true, "見積": true, "伝票": true,
	"領収": true, "レシート": true, "チケット": true, "order": true, "invoice": true,
	"receipt": true, "ticket": true, "booking": true, "transaction": true, "item": true,
}

// topicWord reports whether contextWords[i] is a topic word.
func topicWord(i int16) bool { return i >= 0 && topicWords[contextWords[i].w] }

// maxCtxWordLen bounds the byte length of every context word.
const maxCtxWordLen = 32

type ctxWord struct {
	w     []byte // lower-case for ASCII words
	cat   uint8
	ascii bool
	idx   int16 // index in contextWords, for explanations
}

// ctxMatch is a context word found in a window: its category, its index in
// contextWords (-1: none) and its byte span.
type ctxMatch struct {
	cat        uint8
	word       int16
	start, end int
}

var noMatch = ctxMatch{word: -1}

// ctxIndex finds context words by their first rune (ASCII lower-cased),
// so a window is searched with one probe per character.
type ctxIndex struct {
	m *runeMap[ctxWord]
	// lead is a bitmap over the BMP of runes that start a word, both ASCII
	// cases included, for a cheap "could a word start here" test.
	lead [1 << 10]uint64
}

// mayStart reports whether some context word starts with r.
func (x *ctxIndex) mayStart(r rune) bool {
	return r <= 0xFFFF && x.lead[r>>6]&(1<<(r&63)) != 0
}

func newCtxIndex() *ctxIndex {
	x := &ctxIndex{m: newRuneMap[ctxWord]()}
	for i, cw := range contextWords {
		w := []byte(cw.w)
		ascii := true
		for i, c := range w {
			if c >= 0x80 {
				ascii = false
			}
			w[i] = lowerASCII(c)
		}
		r, _ := utf8.DecodeRune(w)
		x.m.add(r, ctxWord{w: w, cat: cw.cat, ascii: ascii, idx: int16(i)})
		x.lead[r>>6] |= 1 << (r & 63)
		if r >= 'a' && r <= 'z' {
			x.lead[(r-0x20)>>6] |= 1 << ((r - 0x20) & 63)
		}
	}
	return x
}

// at returns the words starting with the rune at b[p], or nil.
func (x *ctxIndex) at(b []byte, p, end int) []ctxWord {
	c := b[p]
	var r rune
	switch {
	case c < 0x80:
		r = rune(lowerASCII(c))
	case c >= 0xE0 && c < 0xF0 && p+2 < end:
		r = rune(c&0x0F)<<12 | rune(b[p+1]&0x3F)<<6 | rune(b[p+2]&0x3F)
	case c&0xC0 == 0x80:
		return nil // continuation byte
	default:
		r, _ = utf8.DecodeRune(b[p:end])
	}
	return x.m.get(r)
}

// matchAt reports whether w occurs at b[p:end] (ASCII case-insensitively),
// with word boundaries for ASCII words.
func (w *ctxWord) matchAt(b []byte, lo, p, end int) bool {
	n := len(w.w)
	if p+n > end {
		return false
	}
	for k := 1; k < n; k++ {
		if lowerASCII(b[p+k]) != w.w[k] {
			return false
		}
	}
	if w.ascii {
		if p > lo && isASCIILetter(rune(b[p-1])) {
			return false
		}
		if p+n < end && isASCIILetter(rune(b[p+n])) {
			return false
		}
	}
	return true
}

// best returns the word ending nearest to end (ties: the longer word)
// among words lying wholly inside b[from:end]; lo bounds the boundary
// check. It scans backwards and stops once no word starting further back
// could end nearer.
func (x *ctxIndex) best(b []byte, lo, from, end int) ctxMatch {
	m, bestLen := noMatch, 0
	bestEnd := -1
	for p := end - 1; p >= from && p+maxCtxWordLen >= bestEnd; p-- {
		bucket := x.at(b, p, end)
		for i := range bucket {
			w := &bucket[i]
			if !w.matchAt(b, lo, p, end) {
				continue
			}
			e := p + len(w.w)
			if e > bestEnd || e == bestEnd && len(w.w) > bestLen {
				m, bestEnd, bestLen = ctxMatch{cat: w.cat, word: w.idx, start: p, end: e}, e, len(w.w)
			}
		}
	}
	return m
}

// nearestOf returns the word of category want nearest before end inside
// b[from:end], unless a contrary word (catNegative) lies nearer: a far label
// supports a number only when no order or invoice label stands between.
// Longer words shadow the shorter ones they end with.
func (x *ctxIndex) nearestOf(b []byte, lo, from, end int, want uint8) ctxMatch {
	for p := end - 1; p >= from; p-- {
		bucket := x.at(b, p, end)
		m, bestLen := noMatch, 0
		for i := range bucket {
			w := &bucket[i]
			if len(w.w) > bestLen && w.matchAt(b, lo, p, end) {
				m, bestLen = ctxMatch{cat: w.cat, word: w.idx, start: p, end: p + len(w.w)}, len(w.w)
			}
		}
		if bestLen == 0 {
			continue
		}
		// A longer word ending at the same place (在留カード for カード) was
		// seen earlier in this backward scan only if it starts later, which
		// it cannot; check the words that end where this one ends instead.
		if lm := x.longestEndingAt(b, lo, max(from, m.end-maxCtxWordLen), m.end); lm.word >= 0 {
			m = lm
		}
		switch m.cat {
		case want:
			return m
		case catNegative:
			return noMatch
		}
	}
	return noMatch
}

// longestEndingAt returns the longest word ending exactly at end.
func (x *ctxIndex) longestEndingAt(b []byte, lo, from, end int) ctxMatch {
	m, bestLen := noMatch, 0
	for p := from; p < end; p++ {
		bucket := x.at(b, p, end)
		for i := range bucket {
			w := &bucket[i]
			if p+len(w.w) == end && len(w.w) > bestLen && w.matchAt(b, lo, p, end) {
				m, bestLen = ctxMatch{cat: w.cat, word: w.idx, start: p, end: end}, len(w.w)
			}
		}
	}
	return m
}

// startsAt reports whether a context word starts at b[p].
func (x *ctxIndex) startsAt(b []byte, lo, p, end int) bool {
	bucket := x.at(b, p, end)
	for i := range bucket {
		if bucket[i].matchAt(b, lo, p, end) {
			return true
		}
	}
	return false
}

// first returns the word starting nearest to from inside b[from:end]
// (ties: the longer word).
func (x *ctxIndex) first(b []byte, lo, from, end int) ctxMatch {
	for p := from; p < end; p++ {
		bucket := x.at(b, p, end)
		m, bestLen := noMatch, 0
		for i := range bucket {
			w := &bucket[i]
			if len(w.w) > bestLen && w.matchAt(b, lo, p, end) {
				m, bestLen = ctxMatch{cat: w.cat, word: w.idx, start: p, end: p + len(w.w)}, len(w.w)
			}
		}
		if bestLen > 0 {
			return m
		}
	}
	return noMatch
}
