// Package edm is exact data match: it tells the company's own records (a
// customer list) from look-alike data in a message.
//
// An Index holds, for every field of every imported record, a keyed hash
// (HMAC-SHA256 truncated to 64 bits) of the field's normalised value and the
// record's number; never a value. Inspection hashes the candidate tokens of
// each row, line or paragraph (cells, phone- and e-mail-shaped tokens, ids,
// runs of kanji/kana or capitalised words) and counts a record when two or
// more distinct values of it occur in the same unit: one field alone (a
// shared switchboard number, a common surname) never counts.
//
// A keyed Bloom filter over the same values (SipHash-2-4 under a key derived
// from the HMAC key) turns most tokens away before the HMAC and the lookup.
//
// Invariants: the key never enters the index file and the index never holds
// plaintext or an unkeyed function of it; the index file is replaced atomically (temp file, fsync,
// rename, directory fsync); a loaded Index is immutable and safe for
// concurrent use; a corrupt index or the wrong key is refused at load.
package edm
