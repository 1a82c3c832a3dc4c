// Package detect finds personal data and confidentiality markers in UTF-8
// text extracted from mail bodies and attachments.
//
// Use: build one Engine with New and share it; call Engine.Scan for text in
// memory, or write a large document through Engine.NewDocument (an
// io.Writer taking chunks of any size) and read Document.Result. Results of
// different parts of one message combine with Result.Merge. Each detector's
// Hit carries the distinct-value Count, masked Samples, table Records and,
// only when Config.RetainValues is set (`check -reveal`), the normalised
// Values.
//
// One pass over the bytes drives every detector: a first-byte table for
// ASCII and a rune bitmap for three-byte UTF-8 decide where a detector may
// start (digits, '@', keyword and prefecture lead characters); everything
// else is skipped without decoding. Compatibility forms are folded only
// where a detector looks (full-width digits and letters, the Japanese dash
// and space variants), so the input is never copied or normalised as a
// whole.
//
// Numbers are tokenised into digit groups joined by single spaces, one
// hyphen-like character or parentheses; a line break, tab, table delimiter
// or any other character ends a number. Groups joined by hyphens are never
// split, space-joined groups are tried longest first, so "03-1234-5678
// 090-1234-5678" is two phones and "1234-5678-9012-3456-7890" is nothing.
// A number glued to letters, decimals, paths or units (円, 年) is a code or
// an amount, not personal data. Several groups cut out of a longer run of
// like groups (the first 12 digits of "4111 1111 1111 1112") are never a
// number of their own. Ambiguous shapes (a 12-digit number passing the My
// Number check, a bare 7-digit number, a bare 10-digit landline, the
// context-bound pension, residence card, 住民票 and insurance numbers) are
// reported only when context says what they are (window.go): the header of
// the column they sit in (CSV/TSV, and tables in prose aligned with tabs,
// spaces or 全角スペース, which is how DOCX, PPTX and HTML tables arrive),
// else the word ending nearest before the number (within about 32
// characters and one line break, or within the cell), else the first one
// after it on the same line, else the label cell to its left. For the
// identifiers a label makes certain, a label up to 150 characters before
// (or on the next line after) also supports the number, unless a contrary
// label stands between. Several unlabelled checksum-valid My Numbers in one
// text, with no unlabelled 12-digit number failing the check, are a list.
// A context naming an order, invoice, tracking, product or member number,
// or a documentation marker (テスト用, 記入例), vetoes. Every reported
// value records why (Hit.Why): check digit, word and distance, header,
// label cell, grouping or list.
//
// Tables (Scan with tabular set): the delimiter is a tab or comma, taken
// from the first line that has one; quotes follow RFC 4180. A header among
// the first rows gives each column a meaning (電話, 住所, マイナンバー,
// 注文番号, …) that replaces the context window for its cells; a header
// naming a person column plus another personal column (or three personal
// columns) marks the table as a customer list. A record is a data row with
// a personal-data hit, or, in a customer list, a row whose person column and
// another personal column are filled.
//
// Invariants:
//   - An Engine is immutable after New and safe for concurrent use; a
//     Document belongs to one goroutine.
//   - Masked samples never equal the value they mask and always contain '*';
//     raw values are kept only with Config.RetainValues, are tagged
//     json:"-", and never appear in errors. The keyword detector is the
//     exception by design: its values are dictionary entries, not personal
//     data, and its samples name them.
//   - Chunked scanning finds exactly what one Scan of the whole text finds
//     (lines up to 1 MiB; a Document keeps 4 KiB of look-behind and holds
//     the last complete line back for look-ahead).
//   - Work and memory are bounded: every look-behind and look-ahead has a
//     fixed window; distinct values are counted by 64-bit hash, exactly up
//     to 4,096 per detector and then by a 16 KiB HyperLogLog sketch.
package detect
