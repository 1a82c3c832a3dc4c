package extract

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/sendguard/sendguard/rules"
)

// zipFile reads a zip: an OOXML document is read as such, any other zip as
// an archive whose entries are walked as files one level deeper.
func (w *walker) zipFile(att *rules.Attachment, sp *spilled) (result, error) {
	zr, err := zip.NewReader(sp, sp.size)
	if err != nil {
		att.Archive = true
		return unscannablef("corrupt zip: %s", shortErr(err)), nil
	}
	useFastInflate(zr)
	if kind := ooxmlKind(zr); kind != "" {
		return w.ooxml(att, zr, kind), nil
	}
	att.Archive = true
	if att.Depth+1 > w.lim.MaxDepth {
		return unscannablef("nesting deeper than %d", w.lim.MaxDepth), nil
	}
	files, encrypted := 0, 0
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() {
			continue
		}
		files++
		name := zipName(zf)
		inner := file{name: name, loc: att.Location + "/" + name, depth: att.Depth + 1}
		if err := w.enter(inner.loc); err != nil {
			// the archive is yielded with what was read before the stop
			if yerr := w.yield(&Part{Location: att.Location, Attachment: att, ContentType: att.Type,
				Unscannable: "walk stopped inside archive"}); yerr != nil {
				return result{}, yerr
			}
			return result{}, err
		}
		if zf.Flags&1 != 0 || zf.Method == 99 {
			encrypted++
			att.Encrypted = true
			if err := w.yieldEntry(inner, zf, true, "encrypted zip entry"); err != nil {
				return result{}, err
			}
			continue
		}
		if zf.CompressedSize64 > 0 && zf.UncompressedSize64/zf.CompressedSize64 > uint64(w.lim.MaxRatio) {
			reason := fmt.Sprintf("zip bomb: ratio %d:1 over %d:1", zf.UncompressedSize64/zf.CompressedSize64, w.lim.MaxRatio)
			if err := w.yieldEntry(inner, zf, false, reason); err != nil {
				return result{}, err
			}
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			if err := w.yieldEntry(inner, zf, false, "unreadable zip entry: "+shortErr(err)); err != nil {
				return result{}, err
			}
			continue
		}
		err = w.file(inner, w.inflateLimit(rc, zf.CompressedSize64))
		_ = rc.Close()
		if err != nil {
			return result{}, err
		}
	}
	if files > 0 && encrypted == files {
		return result{unscannable: "encrypted zip"}, nil
	}
	return result{}, nil
}

// yieldEntry yields an archive entry that is not read.
func (w *walker) yieldEntry(f file, zf *zip.File, encrypted bool, reason string) error {
	return w.yield(&Part{
		Location: f.loc,
		Attachment: &rules.Attachment{Name: f.name, Location: f.loc, Depth: f.depth, Encrypted: encrypted,
			Size: int64(zf.UncompressedSize64), Type: "application/octet-stream"},
		ContentType: "application/octet-stream",
		Unscannable: reason,
	})
}

// zipName decodes an entry name: UTF-8 when flagged or valid, else the
// legacy code page Japanese archivers use (CP932), detected.
func zipName(zf *zip.File) string {
	name := zf.Name
	if !utf8.ValidString(name) {
		out, _, _ := decodeText([]byte(name), "")
		name = string(out)
	}
	return strings.TrimLeft(strings.ReplaceAll(name, "\\", "/"), "/")
}

// inflateLimit bounds what one entry may inflate to: its ratio to the
// compressed size, and the whole message's MaxInflated. Declared sizes can
// lie, so the bytes actually read are counted.
func (w *walker) inflateLimit(r io.Reader, compressed uint64) io.Reader {
	return &inflateReader{w: w, r: r, max: int64(compressed)*w.lim.MaxRatio + 64<<10}
}

type inflateReader struct {
	w   *walker
	r   io.Reader
	n   int64
	max int64
}

func (ir *inflateReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	ir.n += int64(n)
	ir.w.inflated += int64(n)
	switch {
	case ir.n > ir.max:
		return n, &limitError{fmt.Sprintf("zip bomb: inflates beyond %d:1", ir.w.lim.MaxRatio)}
	case ir.w.inflated > ir.w.lim.MaxInflated:
		return n, &limitError{fmt.Sprintf("inflated size over %d bytes", ir.w.lim.MaxInflated)}
	case err == nil:
		if cerr := ir.w.ctx.Err(); cerr != nil {
			return n, &limitError{"time limit exceeded"}
		}
	}
	if err != nil && err != io.EOF {
		var le *limitError
		if !errors.As(err, &le) {
			// a checksum or format error: what was read is not the file
			return n, &limitError{"corrupt zip entry: " + shortErr(err)}
		}
	}
	return n, err
}
