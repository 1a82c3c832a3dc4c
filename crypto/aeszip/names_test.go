package aeszip_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("あ", 100) + ".pdf"
	for _, tc := range []struct{ in, want string }{
		{"見積書.xlsx", "見積書.xlsx"},
		{"顧客リスト（社外秘）.csv", "顧客リスト（社外秘）.csv"},
		{"報告　最終版.docx", "報告　最終版.docx"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\山田\見積書.xlsx`, "見積書.xlsx"},
		{"dir/", "attachment"},
		{"..", "attachment"},
		{".", "attachment"},
		{"", "attachment"},
		{"   ", "attachment"},
		{".bashrc", "bashrc"},
		{"name. . .", "name"},
		{"a\x00b\tc\x7f\u0085.txt", "abc.txt"},
		{"invoice\u202Etxt.exe", "invoicetxt.exe"},
		{"zero\u200Bwidth.txt", "zerowidth.txt"},
		{`what?<>:"|*.txt`, "what_______.txt"},
		{"line\u2028sep.txt", "line sep.txt"},
		{"CON", "_CON"},
		{"con.txt", "_con.txt"},
		{"Nul.tar.gz", "_Nul.tar.gz"},
		{"COM1.log", "_COM1.log"},
		{"lpt9", "_lpt9"},
		{"COM10.txt", "COM10.txt"},
		{"console.txt", "console.txt"},
		{"\xff\xfe.txt", "_.txt"},  // one replacement per invalid run
		{"か\u3099ぎ.txt", "がぎ.txt"}, // NFD from macOS becomes NFC
	} {
		if got := aeszip.SanitizeName(tc.in); got != tc.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	got := aeszip.SanitizeName(long)
	if len(got) > 240 || !strings.HasSuffix(got, ".pdf") || !utf8.ValidString(got) || !strings.HasPrefix(got, "あああ") {
		t.Errorf("long name sanitised to %q (%d bytes)", got, len(got))
	}
}

func TestUniqueNames(t *testing.T) {
	var buf bytes.Buffer
	zw, err := aeszip.NewWriter(&buf, aeszip.Options{Password: testPassword, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range []string{"a.txt", "x/a.txt", "A.TXT", "CON", "_CON"} {
		name, err := zw.Add(n, time.Time{}, strings.NewReader(n))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a.txt", "a (2).txt", "A (3).TXT", "_CON", "_CON (2)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("names %q, want %q", got, want)
	}
}

// localHeader is the fixed part of a local file header and what follows.
type localHeader struct {
	version, flags, method uint16
	crc                    uint32
	csize, usize           uint32
	name                   []byte
	extra                  map[uint16][]byte
	next                   int // offset after the entry data
}

func parseLocalHeaders(t *testing.T, b []byte) []localHeader {
	t.Helper()
	var hs []localHeader
	for off := 0; off+30 <= len(b) && binary.LittleEndian.Uint32(b[off:]) == 0x04034b50; {
		h := localHeader{
			version: binary.LittleEndian.Uint16(b[off+4:]),
			flags:   binary.LittleEndian.Uint16(b[off+6:]),
			method:  binary.LittleEndian.Uint16(b[off+8:]),
			crc:     binary.LittleEndian.Uint32(b[off+14:]),
			csize:   binary.LittleEndian.Uint32(b[off+18:]),
			usize:   binary.LittleEndian.Uint32(b[off+22:]),
			extra:   map[uint16][]byte{},
		}
		nl := int(binary.LittleEndian.Uint16(b[off+26:]))
		el := int(binary.LittleEndian.Uint16(b[off+28:]))
		h.name = b[off+30 : off+30+nl]
		ex := b[off+30+nl : off+30+nl+el]
		for len(ex) >= 4 {
			id, sz := binary.LittleEndian.Uint16(ex), int(binary.LittleEndian.Uint16(ex[2:]))
			h.extra[id] = ex[4 : 4+sz]
			ex = ex[4+sz:]
		}
		off += 30 + nl + el + int(h.csize)
		if h.flags&8 != 0 {
			t.Fatal("structure test expects no data descriptors")
		}
		h.next = off
		hs = append(hs, h)
	}
	return hs
}

// TestHeaderLayout checks the WinZip AES fields byte for byte in the local
// headers and in the central directory, and the name encoding modes.
func TestHeaderLayout(t *testing.T) {
	entries := []entry{
		{"ascii.txt", "ascii.txt", []byte("abc")},
		{"見積書.txt", "見積書.txt", []byte("見積")},
		{"顧客〜一覧.txt", "顧客〜一覧.txt", []byte("wave dash")},
	}
	for _, mode := range []aeszip.NameEncoding{aeszip.UTF8, aeszip.CP932} {
		var buf bytes.Buffer
		zw, err := aeszip.NewWriter(&buf, aeszip.Options{Password: testPassword, Names: mode, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := zw.Add(e.name, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), bytes.NewReader(e.data)); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		hs := parseLocalHeaders(t, buf.Bytes())
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != len(entries) || len(zr.File) != len(entries) {
			t.Fatalf("%s: %d local headers, %d central entries", mode, len(hs), len(zr.File))
		}
		wantAES := []byte{2, 0, 'A', 'E', 3, 8, 0}
		for i, h := range hs {
			f := zr.File[i]
			if h.version != 51 || f.ReaderVersion != 51 {
				t.Errorf("%s %d: version needed %d/%d, want 51", mode, i, h.version, f.ReaderVersion)
			}
			if h.method != 99 || f.Method != 99 || h.flags&1 == 0 || f.Flags != h.flags {
				t.Errorf("%s %d: method %d flags %#x", mode, i, h.method, h.flags)
			}
			if h.crc != 0 || f.CRC32 != 0 {
				t.Errorf("%s %d: AE-2 must store CRC 0", mode, i)
			}
			if !bytes.Equal(h.extra[0x9901], wantAES) {
				t.Errorf("%s %d: 0x9901 = % x", mode, i, h.extra[0x9901])
			}
			if int(h.csize) != 16+2+len(deflated(entries[i].data))+10 || int(h.usize) != len(entries[i].data) {
				t.Errorf("%s %d: sizes %d/%d", mode, i, h.csize, h.usize)
			}
			if len(h.extra[0x5455]) != 5 || f.Modified.Unix() != time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Unix() {
				t.Errorf("%s %d: modification time %v", mode, i, f.Modified)
			}
			if got := aeszip.Name(f); got != entries[i].want {
				t.Errorf("%s %d: Name = %q", mode, i, got)
			}
		}
		ascii, kanji, wave := hs[0], hs[1], hs[2]
		if ascii.flags&0x800 != 0 || ascii.extra[0x7075] != nil {
			t.Errorf("%s: ASCII name flagged or given a Unicode Path", mode)
		}
		if wave.flags&0x800 == 0 || string(wave.name) != "顧客〜一覧.txt" {
			t.Errorf("%s: U+301C name must fall back to flagged UTF-8, got flags %#x", mode, wave.flags)
		}
		switch mode {
		case aeszip.UTF8:
			if kanji.flags&0x800 == 0 || string(kanji.name) != "見積書.txt" {
				t.Errorf("utf8: flags %#x name % x", kanji.flags, kanji.name)
			}
		case aeszip.CP932:
			wantSJIS := []byte{0x8c, 0xa9, 0x90, 0xcf, 0x8f, 0x91, '.', 't', 'x', 't'}
			if kanji.flags&0x800 != 0 || !bytes.Equal(kanji.name, wantSJIS) {
				t.Errorf("cp932: flags %#x name % x", kanji.flags, kanji.name)
			}
			up := kanji.extra[0x7075]
			if len(up) < 5 || up[0] != 1 || binary.LittleEndian.Uint32(up[1:]) != crc32.ChecksumIEEE(wantSJIS) || string(up[5:]) != "見積書.txt" {
				t.Errorf("cp932: Unicode Path extra % x", up)
			}
		}
	}
}

// deflated returns the length-defining deflate stream the writer produces
// at the default level.
func deflated(b []byte) []byte {
	// the writer's compressor at its default level: stateless for a
	// small entry, level 5 otherwise
	var buf bytes.Buffer
	if len(b) <= 16<<10 {
		flate.StatelessDeflate(&buf, b, true, nil)
		return buf.Bytes()
	}
	fw, _ := flate.NewWriter(&buf, 5)
	fw.Write(b)
	fw.Close()
	return buf.Bytes()
}

// TestNameOfForeignEntries reads names as Japanese Windows and macOS write
// them: CP932 without any flag, and unflagged UTF-8.
func TestNameOfForeignEntries(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, raw := range []string{
		"\x8c\xa9\x90\xcf\x8f\x91.txt", // 見積書.txt in CP932
		"報告.txt",                       // UTF-8, bit 11 clear
		"\xff\xfe\xfd.txt",             // neither
	} {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: raw, NonUTF8: true}); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"見積書.txt", "報告.txt", "\uFFFD\uFFFD\uFFFD.txt"}
	for i, f := range zr.File {
		if f.Flags&0x800 != 0 {
			t.Fatalf("entry %d flagged UTF-8", i)
		}
		if got := aeszip.Name(f); got != want[i] {
			t.Errorf("Name(entry %d) = %q, want %q", i, got, want[i])
		}
	}
}
