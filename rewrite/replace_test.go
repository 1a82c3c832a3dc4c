package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-message"
	"github.com/jhillyerd/enmime/v2"
)

// Two per-recipient notes as the link mode writes them.
const (
	noteA = "添付ファイルは次のリンクからダウンロードできます（7日間有効）。\n" +
		"https://sendguard.example.com/d/AAAAAAAAAAAAAAAAAAAAAA\n\n" +
		"The attachments can be downloaded from this link (valid for 7 days):\n" +
		"https://sendguard.example.com/d/AAAAAAAAAAAAAAAAAAAAAA\n"
	noteB = "添付ファイルは次のリンクからダウンロードできます（7日間有効）。\n" +
		"https://sendguard.example.com/d/BBBBBBBBBBBBBBBBBBBBBB\n\n" +
		"The attachments can be downloaded from this link (valid for 7 days):\n" +
		"https://sendguard.example.com/d/BBBBBBBBBBBBBBBBBBBBBB\n"
)

// storedFile is what a recording Store received.
type storedFile struct {
	AttachmentFile
	data []byte
}

// recorder is a Store that keeps every file in memory.
type recorder struct{ files []storedFile }

func (r *recorder) store(f AttachmentFile, body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	r.files = append(r.files, storedFile{f, b})
	return nil
}

func replaceOptions(store func(AttachmentFile, io.Reader) error) ReplaceOptions {
	return ReplaceOptions{Store: store, Rand: zeroRand{}}
}

// replace runs ReplaceAttachments with a recorder; the result is closed
// when the test ends.
func replace(t testing.TB, in []byte) (*Replaced, *recorder) {
	t.Helper()
	rec := &recorder{}
	r, err := ReplaceAttachments(bytes.NewReader(in), replaceOptions(rec.store))
	if err != nil {
		t.Fatalf("ReplaceAttachments: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, rec
}

func writeNote(t testing.TB, r *Replaced, note string) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := r.Write(&out, note); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return out.Bytes()
}

func TestReplaceGolden(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			r, _ := replace(t, readFixture(t, c.file))
			stem := strings.TrimSuffix(c.file, ".eml")
			checkGolden(t, stem+".link-a.eml", writeNote(t, r, noteA))
			checkGolden(t, stem+".link-b.eml", writeNote(t, r, noteB))
			js, _ := json.MarshalIndent(r.Files(), "", "  ")
			checkGolden(t, stem+".link.json", append(js, '\n'))
		})
	}
}

// encryptedWithoutZip returns what EncryptAttachments wrote (enc) with
// its zip part cut out, and the note it wrote, using the boundary and
// tail that r parsed from the same input.
func encryptedWithoutZip(t testing.TB, enc []byte, r *Replaced, opt EncryptOptions, res EncryptResult) ([]byte, string) {
	t.Helper()
	rw := r.rw
	eol := rw.top.eol
	closeRest := rw.closeRest
	if rw.wrap {
		closeRest = []byte(eol)
	}
	tail := []byte(eol + "--" + rw.boundary + "--" + string(closeRest) + string(rw.epilogue))
	if !bytes.HasSuffix(enc, tail) {
		t.Fatalf("encrypted output does not end with the close delimiter and epilogue")
	}
	body := enc[:len(enc)-len(tail)]
	i := bytes.LastIndex(body, []byte(eol+"--"+rw.boundary+eol+zipPartHeader(res.ZipName, eol)+eol))
	if i < 0 {
		t.Fatalf("no zip part in the encrypted output")
	}
	e := &encrypter{opt: opt, rw: rw, res: res}
	return append(append([]byte(nil), body[:i]...), tail...), e.note()
}

// TestReplaceMatchesEncrypt: given EncryptAttachments' own note, the
// output is EncryptAttachments' output without the zip part, byte for
// byte, so the note sits where EncryptAttachments puts it.
func TestReplaceMatchesEncrypt(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			in := readFixture(t, c.file)
			enc, res := encrypt(t, in, testOptions())
			r, _ := replace(t, in)
			want, note := encryptedWithoutZip(t, enc, r, testOptions(), res)
			if note != noteOf(t, enc) {
				t.Fatalf("rebuilt note %q differs from the one written", note)
			}
			got := writeNote(t, r, note)
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from the encrypted one without its zip:\n--- got ---\n%s\n--- want ---\n%s", got, want)
			}
			files := r.Files()
			for i := range files {
				if files[i] != res.Files[i] {
					t.Errorf("file %d: %+v, zipped as %+v", i, files[i], res.Files[i])
				}
			}
		})
	}
}

func TestReplaceFaithful(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			in := readFixture(t, c.file)
			r, _ := replace(t, in)
			checkFaithful(t, c, in, writeNote(t, r, noteA))
		})
	}
}

// TestReplaceStoredBytes: Store receives exactly the decoded attachments
// (decoded independently by expectedFiles), under the zip's names, and
// Files reports their sizes and hashes.
func TestReplaceStoredBytes(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			in := readFixture(t, c.file)
			r, rec := replace(t, in)
			want := expectedFiles(t, in)
			files := r.Files()
			if len(rec.files) != len(want) || len(files) != len(want) {
				t.Fatalf("stored %d, reported %d, input has %d", len(rec.files), len(files), len(want))
			}
			for i, w := range want {
				got := rec.files[i]
				if !bytes.Equal(got.data, w) {
					t.Errorf("file %d: stored bytes differ from the attachment", i)
				}
				f := files[i]
				if f.Name != c.files[i] || got.Name != f.Name || got.ContentType != f.ContentType ||
					f.Size != int64(len(w)) {
					t.Errorf("file %d: stored as %+v, reported %+v, want name %q", i, got.AttachmentFile, f, c.files[i])
				}
			}
		})
	}
}

// notePart finds the note's base64 body: the first part.
var notePart = regexp.MustCompile(`(?s)Content-Type: text/plain; charset=UTF-8\r?\nContent-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n--`)

func maskNote(t *testing.T, out []byte) []byte {
	t.Helper()
	loc := notePart.FindSubmatchIndex(out)
	if loc == nil {
		t.Fatalf("no note part in\n%s", out)
	}
	return bytes.Join([][]byte{out[:loc[2]], []byte("[note]"), out[loc[3]:]}, nil)
}

// TestReplaceNotesDiffer: two writes with different notes differ only in
// the note, which reads back as given (with the message's line endings).
func TestReplaceNotesDiffer(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			r, _ := replace(t, readFixture(t, c.file))
			a, b := writeNote(t, r, noteA), writeNote(t, r, noteB)
			if bytes.Equal(a, b) {
				t.Fatal("different notes, same output")
			}
			if !bytes.Equal(maskNote(t, a), maskNote(t, b)) {
				t.Error("outputs differ outside the note")
			}
			if again := writeNote(t, r, noteA); !bytes.Equal(again, a) {
				t.Error("a second write of the same note differs")
			}
			eol := r.rw.top.eol
			for out, note := range map[*[]byte]string{&a: noteA, &b: noteB} {
				if got := noteOf(t, *out); got != strings.ReplaceAll(note, "\n", eol) {
					t.Errorf("note reads back as %q", got)
				}
			}
		})
	}
}

// TestReplaceParses: go-message reads every part; no attachment is left
// (no attached message, no disposition attachment); enmime agrees.
func TestReplaceParses(t *testing.T) {
	for _, c := range encCases {
		t.Run(c.file, func(t *testing.T) {
			r, _ := replace(t, readFixture(t, c.file))
			out := writeNote(t, r, noteA)
			e, err := message.Read(bytes.NewReader(out))
			if err != nil && !message.IsUnknownCharset(err) {
				t.Fatal(err)
			}
			leaves := 0
			err = e.Walk(func(path []int, p *message.Entity, err error) error {
				if err != nil && !message.IsUnknownCharset(err) {
					return err
				}
				ct, _, _ := p.Header.ContentType()
				disp, _, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
				if ct == "message/rfc822" || ct == "application/zip" || disp == "attachment" {
					t.Errorf("part %v (%s, %s) left in", path, ct, disp)
				}
				if !strings.HasPrefix(ct, "multipart/") {
					leaves++
					if _, err := io.Copy(io.Discard, p.Body); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("go-message walk: %v", err)
			}
			if leaves == 0 {
				t.Error("no leaf part")
			}
			env, err := enmime.ReadEnvelope(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("enmime: %v", err)
			}
			for _, e := range env.Errors {
				t.Errorf("enmime: %v", e)
			}
			if len(env.Attachments) != 0 {
				t.Errorf("enmime sees %d attachments", len(env.Attachments))
			}
			if !strings.Contains(env.Text, "/d/AAAAAAAAAAAAAAAAAAAAAA") {
				t.Errorf("enmime text lacks the link:\n%s", env.Text)
			}
		})
	}
}

func TestReplaceRefusals(t *testing.T) {
	calls := 0
	count := func(_ AttachmentFile, body io.Reader) error {
		calls++
		_, err := io.Copy(io.Discard, body)
		return err
	}
	for name, c := range refusalCases {
		r, err := ReplaceAttachments(strings.NewReader(c.in), replaceOptions(count))
		if !errors.Is(err, c.want) || r != nil {
			t.Errorf("%s: err %v, result %v", name, err, r)
		}
	}
	for f, want := range map[string]error{
		"enc-signed.eml":   ErrSignedOrEncrypted,
		"enc-noattach.eml": ErrNoAttachments,
		"bcc-folded.eml":   ErrNoAttachments,
		"bcc-groups.eml":   ErrNoAttachments,
	} {
		calls = 0
		r, err := ReplaceAttachments(bytes.NewReader(readFixture(t, f)), replaceOptions(count))
		if !errors.Is(err, want) || r != nil || calls != 0 {
			t.Errorf("%s: err %v, result %v, %d files stored", f, err, r, calls)
		}
	}
	if _, err := ReplaceAttachments(bytes.NewReader(readFixture(t, "enc-single.eml")), ReplaceOptions{}); err == nil {
		t.Error("nil Store accepted")
	}
}

// TestReplaceStoreError: a failing Store aborts at once with its error
// wrapped, without a result, and is not called again.
func TestReplaceStoreError(t *testing.T) {
	in := readFixture(t, "enc-japanese.eml")
	diskFull := errors.New("disk full")
	calls := 0
	r, err := ReplaceAttachments(bytes.NewReader(in), replaceOptions(func(f AttachmentFile, body io.Reader) error {
		calls++
		if calls == 2 {
			_, _ = io.CopyN(io.Discard, body, 10)
			return diskFull
		}
		_, err := io.Copy(io.Discard, body)
		return err
	}))
	if !errors.Is(err, diskFull) || r != nil || calls != 2 {
		t.Errorf("err %v, result %v, %d calls", err, r, calls)
	}
	if strings.Contains(err.Error(), "見積書") {
		t.Errorf("error names the file: %v", err)
	}

	// A Store that stops early but reports success would keep a truncated
	// file.
	_, err = ReplaceAttachments(bytes.NewReader(in), replaceOptions(func(f AttachmentFile, body io.Reader) error {
		_, err := io.CopyN(io.Discard, body, 1)
		return err
	}))
	if err == nil {
		t.Error("a Store that read one byte succeeded")
	}

	// A Store that ignores a read error still fails the rewrite.
	_, err = ReplaceAttachments(strings.NewReader(refusalCases["corrupt base64"].in), replaceOptions(func(f AttachmentFile, body io.Reader) error {
		_, _ = io.Copy(io.Discard, body)
		return nil
	}))
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("corrupt base64 with a lax Store: %v", err)
	}
}

// TestReplaceNamesMatchZip: stored files are named as the zip entries of
// EncryptAttachments, including sanitised, duplicate and long names.
func TestReplaceNamesMatchZip(t *testing.T) {
	long := strings.Repeat("長", 90) + ".tar.gz" // 277 bytes
	// 239 bytes: "(2)" makes the stem "a…a.tar" too long, which keeps ".tar".
	dotted := strings.Repeat("a", 232) + ".tar.gz"
	var msg strings.Builder
	msg.WriteString("Subject: names\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
	for _, n := range []string{"a (2).txt", "a.txt", "A.TXT", "a.txt", "x.tar.gz", "x.tar.gz", long, long, long, dotted, dotted, "..", "CON", "a/b\\c.pdf", " spaced .doc. "} {
		msg.WriteString("--b\r\nContent-Disposition: attachment; filename*=UTF-8''" + rfc2231Escape(n) + "\r\n\r\nx\r\n")
	}
	msg.WriteString("--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: =?UTF-8?B?5LiN6KaB?=\r\n\r\nhi\r\n")
	msg.WriteString("--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x\r\n\r\nhi\r\n--b--\r\n")
	inputs := []string{msg.String()}
	for _, c := range encCases {
		inputs = append(inputs, string(readFixture(t, c.file)))
	}
	for i, in := range inputs {
		_, res := encrypt(t, []byte(in), testOptions())
		r, _ := replace(t, []byte(in))
		var got, want []string
		for _, f := range r.Files() {
			got = append(got, f.Name)
		}
		for _, f := range res.Files {
			want = append(want, f.Name)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("input %d: names\n%q\nwant\n%q", i, got, want)
		}
	}
}

func TestReplaceWriteConcurrent(t *testing.T) {
	r, _ := replace(t, readFixture(t, "enc-nested.eml"))
	notes := []string{noteA, noteB, "x", ""}
	want := make([][]byte, len(notes))
	for i, n := range notes {
		want[i] = writeNote(t, r, n)
	}
	var wg sync.WaitGroup
	got := make([][]byte, len(notes)*3)
	for i := range got {
		wg.Go(func() {
			var out bytes.Buffer
			if err := r.Write(&out, notes[i%len(notes)]); err == nil {
				got[i] = out.Bytes()
			}
		})
	}
	wg.Wait()
	for i := range got {
		if !bytes.Equal(got[i], want[i%len(notes)]) {
			t.Errorf("concurrent write %d differs", i)
		}
	}
}

func TestReplaceWriteErrors(t *testing.T) {
	r, _ := replace(t, readFixture(t, "enc-single.eml"))
	var out bytes.Buffer
	if err := r.Write(&out, "bad \xff note"); err == nil || out.Len() != 0 {
		t.Errorf("invalid UTF-8 note: %v, %d bytes", err, out.Len())
	}
	if err := r.Write(failWriter{}, noteA); err == nil {
		t.Error("write error not reported")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.Write(&out, noteA); !errors.Is(err, errClosed) || out.Len() != 0 {
		t.Errorf("write after Close: %v, %d bytes", err, out.Len())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("connection lost") }

func TestReplaceNoteLineEndings(t *testing.T) {
	for file, want := range map[string]string{
		"enc-single.eml":   "a\nb\n", // LF message
		"enc-japanese.eml": "a\r\nb\r\n",
	} {
		r, _ := replace(t, readFixture(t, file))
		if got := noteOf(t, writeNote(t, r, "a\r\nb\n")); got != want {
			t.Errorf("%s: note %q, want %q", file, got, want)
		}
	}
}
