package disposition

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/rewrite"
	"github.com/sendguard/sendguard/spool"
)

// Linker applies the link action: attachments are stored encrypted at rest
// in the link store and each recipient gets a copy of the mail whose note
// carries their own download link (the file comes after a one-time code
// sent to that recipient's address, so a forwarded link is useless). The
// sender gets a notice with the revocation link and the download log.
type Linker struct {
	Store        *spool.Store
	Links        link.Storage
	Pages        *link.Handler
	Notices      *notify.Builder // writes the sender's notice
	TTL          time.Duration   // how long links work
	MaxDownloads int             // per file, 0: no limit
	LangOf       func(addr string) string
	Location     *time.Location // time zone of the expiry in notes; nil means UTC
	Lifetime     time.Duration  // queue lifetime of the notice
}

// Linked reports an applied link action.
type Linked struct {
	// RcptBodies maps each envelope recipient to its own copy (ID.suffix).
	RcptBodies map[string]string
	Notices    *Prepared
	PackageID  string
}

// Apply replaces the attachments of the spooled message id (starting from
// the copy named from, "" for the body as received).
func (l *Linker) Apply(ctx context.Context, id, from, sender string, rcpts []string, subject string, now time.Time) (*Linked, error) {
	src, err := l.Store.OpenDeliverable(&spool.Record{ID: id, BodySuffix: from})
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	defer src.Close()
	// Plaintext attachments are staged next to the spool (same disk,
	// same permissions), never in the shared system temp directory.
	tmp, err := os.MkdirTemp(l.Store.TempDir(), "link-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var files []link.FileIn
	var paths []string
	rep, err := rewrite.ReplaceAttachments(src, rewrite.ReplaceOptions{TempDir: tmp,
		Store: func(f rewrite.AttachmentFile, r io.Reader) error {
			p := filepath.Join(tmp, strconv.Itoa(len(paths)))
			out, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, r)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			paths = append(paths, p)
			files = append(files, link.FileIn{Name: f.Name, Type: f.ContentType})
			return err
		}})
	if err != nil {
		return nil, err
	}
	defer rep.Close()
	var opened []*os.File
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	for i := range files {
		f, err := os.Open(paths[i])
		if err != nil {
			return nil, err
		}
		opened = append(opened, f)
		files[i].Reader = f
	}
	created, err := l.Links.Create(ctx, link.Package{MessageID: id, Sender: sender, Recipients: rcpts,
		Subject: subject, Expires: now.Add(l.TTL), MaxDownloads: l.MaxDownloads, Files: files})
	if err != nil {
		return nil, fmt.Errorf("store attachments: %w", err)
	}
	out := &Linked{RcptBodies: map[string]string{}, Notices: &Prepared{}, PackageID: created.ID}
	undo := func() {
		out.Notices.Discard(l.Store)
		for _, suffix := range out.RcptBodies {
			l.Store.RemoveDerived(id, suffix)
		}
		l.Links.RevokeID(context.WithoutCancel(ctx), created.ID, hold.System)
	}
	note := link.Note{Files: created.Files, Expires: created.Expires, Location: l.Location}
	for i, nl := range l.Pages.NoteLinks(created) {
		suffix := "lnk" + strconv.Itoa(i)
		l.Store.RemoveDerived(id, suffix) // a copy left by an earlier attempt
		bw, err := l.Store.CreateDerived(id, suffix)
		if err != nil {
			undo()
			return nil, err
		}
		if err := rep.Write(bw, link.NoteText(l.lang(nl.Recipient), note, nl)); err != nil {
			bw.Abort()
			undo()
			return nil, fmt.Errorf("write copy: %w", err)
		}
		if _, err := bw.Commit(); err != nil {
			undo()
			return nil, err
		}
		out.RcptBodies[nl.Recipient] = suffix
	}
	if sender != "" {
		text := link.SenderNoteText(l.lang(sender), note, l.Pages.RevokeLink(created.RevokeToken.Text()))
		data, err := l.Notices.Text(notify.TextNotice{Kind: notify.LinkSent, To: sender, First: l.lang(sender),
			Topic: subject, Text: text, Date: now})
		if err == nil {
			err = spoolNotice(l.Store, out.Notices, []string{sender}, data, "link notice", now, l.Lifetime)
		}
		if err != nil {
			undo()
			return nil, err
		}
	}
	return out, nil
}

func (l *Linker) lang(addr string) string {
	if l.LangOf == nil {
		return ""
	}
	return l.LangOf(addr)
}
