// Package detect finds personal data and confidentiality markers in UTF-8
// text extracted from mail bodies and attachments.
//
// One pass over the bytes drives every detector: a first-byte table for
// ASCII and a rune bitmap for three-byte UTF-8 decide where a detector may
// start (digits, '@', keyword and prefecture lead characters); everything else
// is skipped without decoding. Compatibility forms are folded only where a
// detector looks (full-width digits and letters, the Japanese dash and space
// variants), so the input is never copied or normalised as a whole.
//
// Numbers are tokenised into digit groups joined by single spaces, hyphens
// or parentheses; a line break, tab, table delimiter or any other character
// ends a number. Ambiguous shapes (a 12-digit number passing the My Number
// check, a bare 7-digit number) are reported only when a context word or
// table header says what they are, and never when the context names an order,
// invoice, tracking or product number.
//
// Invariants:
//   - An Engine is immutable after New and safe for concurrent use; a
//     Document belongs to one goroutine.
//   - Masked samples never equal the value they mask; raw values are kept only
//     when Config.RetainValues is set, are tagged json:"-", and never appear in
//     errors. The keyword detector is the exception by design: its values are
//     dictionary entries, not personal data, and its samples name them.
//   - Work and memory are bounded: every look-behind and look-ahead has a
//     fixed window; distinct values are counted by 64-bit hash, exactly up
//     to 4,096 per detector and then by a 16 KiB HyperLogLog sketch.
package detect
