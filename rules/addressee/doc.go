// Package addressee finds the company a message or document is addressed to
// (「株式会社○○ 御中」, 「○○株式会社 ○○様」, 「○○様」 under a company
// line, the customer cell of a quotation or invoice) and compares it with
// the companies the recipients' domains belong to, using a partner
// directory of company names and domains.
//
// Precision comes first: only the head of a text (the salutation block,
// before the first sentence) is read; only names that exactly equal a
// directory company after normalisation (legal forms such as 株式会社,
// (株), ㈱, 有限会社 removed, width folded) count, so that 株式会社山田商事
// and 山田商事ロジスティクス株式会社 stay two companies; and a mismatch needs
// a recipient domain that belongs to another directory company — an
// unknown domain says nothing, unless delivered mail taught which company
// it belongs to (learn.go: display names and quoted signatures with a
// legal form, decaying, counted only after a few deliveries).
package addressee
