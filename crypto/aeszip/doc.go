// Package aeszip writes and reads password-protected zip archives: the
// container sendguard puts a risky message's attachments in before delivery.
//
// The writer produces WinZip AES-256 (AE-2) entries on top of the standard
// archive/zip (Writer.CreateRaw): compression method 99, general-purpose bit
// 0, extra field 0x9901, entry data salt ‖ password verifier ‖ AES-CTR
// ciphertext of the deflated data ‖ HMAC-SHA1-80, keys from
// PBKDF2-HMAC-SHA1 (1000 iterations), CRC stored as 0. Traditional PKWARE
// encryption (ZipCrypto) is available only as an explicit compatibility
// option, because it is weak (see ZipCrypto).
//
// Invariants:
//   - Memory does not grow with entry size: each entry is deflated (or
//     stored, when its first 16 KiB look already compressed) and encrypted,
//     and its sizes must be known before the local header is written. An
//     AES entry of up to 512 KiB (nearly every attachment) is read whole
//     into memory, compressed and encrypted there and written straight into
//     the archive. A larger one streams into the archive when its
//     destination can overwrite bytes it was given (io.WriterAt with Size,
//     as the rewriter's spill buffer): the local header goes out with zero
//     sizes, which are written into it once the entry ends. Otherwise, or
//     for ZipCrypto, it is compressed and encrypted in one pass into a
//     buffer and then copied into the archive. That buffer is memory up to
//     512 KiB, then a temporary file; either only ever holds ciphertext,
//     and the file is unlinked as soon as it is created where the OS
//     allows.
//   - Entry names are sanitised (SanitizeName) and unique within an archive.
//   - The password is never logged or formatted (Options redacts it).
//   - The reader (Open, Decrypt) verifies the password verifier before
//     returning data and the HMAC (AE-2) or CRC (AE-1, ZipCrypto) at the end
//     of the entry; a caller must discard what it read if the final read
//     fails.
package aeszip
