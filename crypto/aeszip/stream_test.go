package aeszip

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sendguard/sendguard/internal/spillbuf"
)

// streamSamples are entries past the direct path's limit, deflated and
// stored, with small ones between them so direct and streamed entries
// alternate in one archive.
func streamSamples() [][]byte {
	s := directSamples()
	random := s[len(s)-2] // random(directMax + 1)
	text := s[len(s)-1]   // text(600 KiB)
	big := bytes.Repeat(text, 4)
	return [][]byte{text, []byte("abc"), random, big, s[3], append(append([]byte(nil), random...), random...)}
}

// TestStreamedSameAsStaged writes the same entries into a destination the
// writer can patch (a spill buffer, streamed entries) and into one it
// cannot (staged entries): the central directories agree field by field,
// each local header carries the sizes its central entry does, and every
// entry's decrypted payload is the same.
func TestStreamedSameAsStaged(t *testing.T) {
	samples := streamSamples()
	mod := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	const pw = "Kx7-ab9QwErT"
	add := func(zw *Writer) {
		for i, s := range samples {
			if _, err := zw.Add(fmt.Sprintf("e%d.bin", i), mod, bytes.NewReader(s)); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var staged bytes.Buffer
	zw, err := NewWriter(&staged, Options{Password: pw, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if zw.patch != nil {
		t.Fatal("a bytes.Buffer taken as patchable")
	}
	add(zw)

	sb := spillbuf.New(t.TempDir(), "test")
	defer sb.Close()
	sb.WriteString("prefix before the archive") // the archive need not start at 0
	zw, err = NewWriter(sb, Options{Password: pw, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if zw.patch == nil {
		t.Fatal("a spill buffer not taken as patchable")
	}
	add(zw)
	if !sb.Spilled() {
		t.Fatal("the archive stayed in memory: the file side of WriteAt is untested")
	}
	var streamed bytes.Buffer
	if err := sb.CopyTo(&streamed, make([]byte, 32<<10)); err != nil {
		t.Fatal(err)
	}
	sbytes := streamed.Bytes()[len("prefix before the archive"):]

	read := func(b []byte) *zip.Reader {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		checkLocalSizes(t, b, zr)
		return zr
	}
	a, b := read(staged.Bytes()), read(sbytes)
	for i, s := range samples {
		fa, fb := a.File[i], b.File[i]
		ha, hb := fa.FileHeader, fb.FileHeader
		if ha.Name != hb.Name || ha.Method != hb.Method || ha.Flags != hb.Flags || ha.ReaderVersion != hb.ReaderVersion ||
			!bytes.Equal(ha.Extra, hb.Extra) || ha.CRC32 != hb.CRC32 || ha.CompressedSize64 != hb.CompressedSize64 ||
			ha.UncompressedSize64 != hb.UncompressedSize64 || !ha.Modified.Equal(hb.Modified) {
			t.Errorf("%d bytes: headers differ:\nstaged   %+v\nstreamed %+v", len(s), ha, hb)
		}
		if !bytes.Equal(rawPayload(t, fa, pw), rawPayload(t, fb, pw)) {
			t.Errorf("%d bytes: payloads differ", len(s))
		}
		var out bytes.Buffer
		if _, err := Decrypt(fb, pw, &out); err != nil || !bytes.Equal(out.Bytes(), s) {
			t.Fatalf("%d bytes: streamed entry does not read back: %v", len(s), err)
		}
	}
}

// checkLocalSizes walks the local headers in order and compares their
// sizes and CRC with the central directory's.
func checkLocalSizes(t *testing.T, b []byte, zr *zip.Reader) {
	t.Helper()
	off := 0
	for _, f := range zr.File {
		h := b[off:]
		if binary.LittleEndian.Uint32(h) != 0x04034b50 {
			t.Fatalf("%s: no local header at %d", f.Name, off)
		}
		crc, csize, usize := binary.LittleEndian.Uint32(h[14:]), binary.LittleEndian.Uint32(h[18:]), binary.LittleEndian.Uint32(h[22:])
		if crc != f.CRC32 || uint64(csize) != f.CompressedSize64 || uint64(usize) != f.UncompressedSize64 {
			t.Fatalf("%s: local header crc %d sizes %d/%d, central %d %d/%d", f.Name, crc, csize, usize, f.CRC32, f.CompressedSize64, f.UncompressedSize64)
		}
		off += 30 + int(binary.LittleEndian.Uint16(h[26:])) + int(binary.LittleEndian.Uint16(h[28:])) + int(csize)
	}
}

// TestStreamedReadError: a read error within the part the writer reads
// ahead leaves it usable, as for any entry; one after a streamed entry's
// header is out breaks it, and Close reports it.
func TestStreamedReadError(t *testing.T) {
	mod := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	boom := errors.New("boom")
	sb := spillbuf.New(t.TempDir(), "test")
	defer sb.Close()
	zw, err := NewWriter(sb, Options{Password: "Kx7-ab9QwErT", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	early := io.MultiReader(bytes.NewReader(make([]byte, 1000)), iotest.ErrReader(boom))
	if _, err := zw.Add("early.bin", mod, early); !errors.Is(err, boom) {
		t.Fatalf("early error: %v", err)
	}
	if _, err := zw.Add("ok.txt", mod, bytes.NewReader([]byte("still usable"))); err != nil {
		t.Fatalf("after an early read error: %v", err)
	}
	late := io.MultiReader(bytes.NewReader(make([]byte, directMax+100)), iotest.ErrReader(boom))
	if _, err := zw.Add("late.bin", mod, late); !errors.Is(err, boom) {
		t.Fatalf("late error: %v", err)
	}
	if _, err := zw.Add("after.txt", mod, bytes.NewReader([]byte("x"))); !errors.Is(err, boom) {
		t.Fatalf("Add after a broken entry: %v", err)
	}
	if err := zw.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close after a broken entry: %v", err)
	}
}

// failingDest is a patchable destination that fails its writes once it
// holds failAfter bytes, or every WriteAt.
type failingDest struct {
	*spillbuf.Buffer
	failAfter int64 // < 0: writes never fail
	failPatch bool
	err       error
}

func (d *failingDest) Write(p []byte) (int, error) {
	if d.failAfter >= 0 && d.Size()+int64(len(p)) > d.failAfter {
		return 0, d.err
	}
	return d.Buffer.Write(p)
}

func (d *failingDest) WriteAt(p []byte, off int64) (int, error) {
	if d.failPatch {
		return 0, d.err
	}
	return d.Buffer.WriteAt(p, off)
}

// TestStreamedWriteError: a destination that fails while a streamed entry
// is written, or when its sizes are written into its header, breaks the
// writer with that error: no later entry is added and Close reports it.
func TestStreamedWriteError(t *testing.T) {
	mod := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	s := directSamples()
	big := s[len(s)-2] // random(directMax + 1): stored, so its bytes reach the destination as they are read
	for _, tc := range []struct {
		name      string
		failAfter int64
		failPatch bool
	}{
		{"at the header", 1, false},
		{"in the data", directMax / 2, false},
		{"writing the sizes", -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			boom := errors.New("disk full")
			d := &failingDest{Buffer: spillbuf.New(t.TempDir(), "test"), failAfter: tc.failAfter, failPatch: tc.failPatch, err: boom}
			defer d.Close()
			zw, err := NewWriter(d, Options{Password: "Kx7-ab9QwErT", TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if zw.patch == nil {
				t.Fatal("the destination was not taken as patchable")
			}
			if _, err := zw.Add("list.csv", mod, bytes.NewReader(big)); !errors.Is(err, boom) {
				t.Fatalf("Add: %v, want %v", err, boom)
			}
			if _, err := zw.Add("after.txt", mod, bytes.NewReader([]byte("x"))); !errors.Is(err, boom) {
				t.Fatalf("Add after a failed write: %v", err)
			}
			if err := zw.Close(); !errors.Is(err, boom) {
				t.Fatalf("Close after a failed write: %v", err)
			}
		})
	}
}
