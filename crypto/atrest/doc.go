// Package atrest encrypts files that sendguard keeps on disk (attachments
// served through download links) with authenticated, streaming encryption.
//
// Each file gets its own random 256-bit key, wrapped (AES-256-GCM) by a
// master key and stored in the file's header. The body is a sequence of
// AES-256-GCM chunks (the STREAM construction): chunk i is sealed with the
// nonce prefix ‖ i ‖ last-flag, and every chunk's additional data is the
// whole header.
//
// Invariants:
//   - Tampering with any byte, reordering or dropping chunks, truncating at
//     any point (also exactly at a chunk boundary), appending data or
//     swapping headers between files is detected: the reader returns an
//     error instead of io.EOF.
//   - The reader releases only plaintext of chunks that have been
//     authenticated; on error, data already returned is a prefix of the
//     original that ends at a chunk boundary.
//   - Reader streams; ReadSeeker gives random access (HTTP range requests)
//     and checks the last chunk before serving anything.
//   - Memory is bounded by the chunk size (default 64 KiB), whatever the file
//     size.
//   - Keys are never logged; MasterKey prints only its ID.
//
// Format (version 1, big-endian integers):
//
//	header: "SGAR" | version=1 (1) | chunk size (4) | master key ID (8) |
//	        wrap nonce (12) | wrapped file key (32+16) | nonce prefix (7)
//	chunk:  ciphertext (chunk size, shorter only in the last) | tag (16)
//	nonce:  nonce prefix (7) | chunk index (4) | last (1: 0 or 1)
package atrest
