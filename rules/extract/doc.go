// Package extract walks a raw RFC 5322 message and yields, for every body
// part and every attachment (recursively through zip archives and attached
// messages), its facts and its text decoded to UTF-8, for the detectors.
//
// Invariants:
//   - Streaming: the MIME structure is read once with go-message's textproto
//     reader; memory is bounded by one part's text (Limits.MaxPartText; under
//     WalkStream, a 64 KiB window, the text going to the caller's writer as
//     it is decoded) plus,
//     for formats that need random access (zip, OOXML, PDF), one buffered
//     attachment (in memory up to Limits.MaxMemory, then in a temporary
//     file) and never more than Limits.MaxAttachment. A reader that cannot
//     seek also keeps its first Limits.MaxFallback bytes for the re-read
//     below; pass an *os.File (the spool file) to avoid that copy.
//   - Tolerant: malformed MIME, unknown transfer encodings, corrupt base64,
//     missing final boundaries and bad charsets are recorded in
//     Message.Errors and never stop the walk; whatever can be read is yielded.
//     These shims live in the streaming path. Where go-message cannot go on
//     inside a multipart (a broken part header, a mangled boundary), the
//     message is re-read once with enmime, bounded by Limits.MaxFallback,
//     and only the parts the walk missed are yielded; if that is not
//     possible, Message.Incomplete is set.
//   - Bounded: nesting depth, entry count, inflated size and compression
//     ratio (zip bombs), per-part text and total time are limited; a part
//     over a limit is yielded with Part.Unscannable set, never silently
//     dropped.
//   - Stoppable: every parser either checks the walk's deadline as it
//     reads or is bounded by its input. The one that is neither, the PDF
//     reader (github.com/dslipak/pdf: no cancellation, unbounded stream
//     inflation, known loops), runs in a child process under a time, CPU
//     and memory budget that ends it (sandbox.go); the program must call
//     ServeWorker first thing in main. Not isolated, and why: zip, OOXML
//     and xlsx are this package's streaming code over archive/zip and
//     encoding/xml, every read going through the inflate limits, which
//     check the deadline; the OLE reader (mscfb) only lists a directory,
//     with cycle checks, at most 1000 entries; mimetype sees 3 KiB;
//     go-message is driven read by read through a deadline-checking
//     reader; enmime (the tolerant re-read) is linear once its quadratic
//     case, a flood of parts, is refused, on at most Limits.MaxFallback
//     bytes.
//   - A part that cannot be read (encrypted, corrupt, legacy or unknown
//     binary format) is yielded with Unscannable set to the reason; encrypted
//     content also sets Attachment.Encrypted.
//   - Containers (zip archives, attached messages) are yielded after their
//     contents, so their sizes and flags are final.
//
// Text is not normalised (no NFKC): detectors normalise and keep the values
// as written.
package extract
