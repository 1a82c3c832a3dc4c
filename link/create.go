package link

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/atrest"
)

const (
	maxNameRunes    = 200
	maxSubjectRunes = 500
	maxIDLen        = 998
)

// Create stores a package: every file is streamed through atrest to disk
// and fsynced, then the record, the token hashes and a "link_created"
// audit event commit in one transaction. It returns one link token per
// recipient and the sender's revocation token; only their hashes are
// kept. On error nothing is left behind.
func (s *Store) Create(ctx context.Context, p Package) (*Created, error) {
	d, err := NewDraft(p, s.opts, s.now())
	if err != nil {
		return nil, err
	}
	id := d.Info.ID
	dir := s.pkgDir(id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("link: create package directory: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(dir)
		}
	}()
	for n, f := range p.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		size, err := s.writeFile(s.filePath(id, n), f.Reader)
		if err != nil {
			return nil, fmt.Errorf("link: store file %d: %w", n, err)
		}
		d.AddFile(f.Name, f.Type, size)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	if err := syncDir(s.dir); err != nil {
		return nil, err
	}
	rec := &record{Info: d.Info}
	for _, t := range d.Tokens {
		rec.Tokens = append(rec.Tokens, t.Hash)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if err := putRecord(tx, rec); err != nil {
			return err
		}
		for _, t := range d.Tokens {
			if err := putJSON(tx.Bucket(bucketTokens), t.Hash[:], tokenRec{Package: id, Role: t.Role, Recipient: t.Recipient}); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketByMsg).Put(append(lp(rec.MessageID), id...), nil); err != nil {
			return fmt.Errorf("link: put message index: %w", err)
		}
		if err := tx.Bucket(bucketFiles).Put(timeKey(rec.Expires, id), nil); err != nil {
			return fmt.Errorf("link: put file deadline: %w", err)
		}
		if err := tx.Bucket(bucketExpiry).Put(timeKey(rec.Expires.Add(s.opts.Retention), id), nil); err != nil {
			return fmt.Errorf("link: put expiry: %w", err)
		}
		return s.audit(tx, d.CreatedEvent())
	})
	if err != nil {
		return nil, fmt.Errorf("link: commit package: %w", err)
	}
	committed = true
	s.log.Info("link package created", "id", id, "message_id", rec.MessageID, "files", len(rec.Files), "recipients", len(rec.Recipients))
	return d.Created, nil
}

// writeFile encrypts r into path: temporary name, fsync, rename.
func (s *Store) writeFile(path string, r io.Reader) (int64, error) {
	if r == nil {
		return 0, fmt.Errorf("%w: file without reader", ErrInvalid)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer func() {
		if f != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 128<<10)
	ew, err := atrest.NewWriter(bw, s.key)
	if err != nil {
		return 0, err
	}
	size, err := io.Copy(ew, r)
	if err != nil {
		return 0, fmt.Errorf("read attachment: %w", err)
	}
	if err := ew.Close(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("close: %w", err)
	}
	f = nil
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("rename: %w", err)
	}
	return size, nil
}

func (s *Store) validate(p *Package) error {
	var problems []string
	if p.MessageID == "" || len(p.MessageID) > maxIDLen {
		problems = append(problems, "message id empty or too long")
	}
	if a, err := mail.ParseAddress(p.Sender); err != nil || strings.ContainsAny(p.Sender, "\r\n") {
		problems = append(problems, "sender is not an address")
	} else {
		p.Sender = a.Address
	}
	if len(p.Recipients) == 0 || len(p.Recipients) > s.opts.MaxRecipients {
		problems = append(problems, fmt.Sprintf("%d recipients, want 1 to %d", len(p.Recipients), s.opts.MaxRecipients))
	}
	seen := map[string]bool{}
	rcpts := make([]string, 0, len(p.Recipients))
	for _, r := range p.Recipients {
		a, err := mail.ParseAddress(r)
		if err != nil || strings.ContainsAny(r, "\r\n") {
			problems = append(problems, fmt.Sprintf("recipient %q is not an address", cleanText(r, 80)))
			continue
		}
		if k := strings.ToLower(a.Address); !seen[k] {
			seen[k] = true
			rcpts = append(rcpts, a.Address)
		}
	}
	p.Recipients = rcpts
	if len(p.Files) == 0 || len(p.Files) > s.opts.MaxFiles {
		problems = append(problems, fmt.Sprintf("%d files, want 1 to %d", len(p.Files), s.opts.MaxFiles))
	}
	if !p.Expires.After(s.now()) {
		problems = append(problems, "expiry is not in the future")
	}
	if p.MaxDownloads < 0 {
		problems = append(problems, "negative download limit")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// cleanName keeps a file name safe to show and to put in a header: the
// last path element, control characters removed, bounded length. An empty
// result gets a generic name.
func cleanName(name string, n int) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.TrimSpace(cleanText(name, maxNameRunes))
	name = strings.TrimLeft(name, ".")
	if name == "" || name == "/" {
		return fmt.Sprintf("attachment-%d", n+1)
	}
	return name
}

// cleanText drops invalid UTF-8 and control characters and bounds length.
func cleanText(s string, maxRunes int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxRunes {
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// cleanType keeps a well-formed media type and parameters-free; anything
// else is served as application/octet-stream.
func cleanType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil || !strings.Contains(mt, "/") || !utf8.ValidString(mt) || len(mt) > 100 {
		return "application/octet-stream"
	}
	return mt
}
