package link

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
)

// FileReader is a stored file being downloaded: the plaintext with random
// access (every chunk authenticated before it is returned) and its
// metadata. Close it.
type FileReader struct {
	*atrest.ReadSeeker
	File File
	c    io.Closer
}

// Close closes the encrypted file.
func (r *FileReader) Close() error { return r.c.Close() }

// liveErr maps a package's status to the error that refuses it.
func liveErr(st Status) error {
	switch st {
	case StatusRevoked:
		return ErrRevoked
	case StatusExpired:
		return ErrExpired
	case StatusExhausted:
		return ErrExhausted
	}
	return nil
}

// OpenFile opens file n of the package of a recipient's token for
// download. In one transaction it checks that the package is live and
// file n under its limit, counts the download and logs it (with an audit
// event); only then is the file handed out. The file is authenticated up
// to its last chunk before the download is counted.
func (s *Store) OpenFile(ctx context.Context, h token.Hash, n int, c Client) (*FileReader, error) {
	a, err := s.Resolve(ctx, h)
	if err != nil {
		return nil, err
	}
	if a.Role != RoleRecipient {
		return nil, ErrWrongRole
	}
	if err := liveErr(a.Info.Status(s.now())); err != nil {
		return nil, err
	}
	if n < 0 || n >= len(a.Info.Files) {
		return nil, ErrNoFile
	}
	f, err := os.Open(s.filePath(a.Info.ID, n))
	if err != nil {
		return nil, fmt.Errorf("link: open file: %w", err)
	}
	fr, err := s.readerFor(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if fr.Size() != a.Info.Files[n].Size {
		f.Close()
		return nil, fmt.Errorf("link: file %d of %s has %d bytes, record says %d", n, a.Info.ID, fr.Size(), a.Info.Files[n].Size)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		a, err := resolveTx(tx, h)
		if err != nil {
			return err
		}
		r, err := getRecord(tx, a.Info.ID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := liveErr(r.Status(now)); err != nil {
			return err
		}
		if r.MaxDownloads > 0 && r.Files[n].Downloads >= r.MaxDownloads {
			return ErrExhausted
		}
		r.Files[n].Downloads++
		fr.File = r.Files[n]
		if err := putRecord(tx, r); err != nil {
			return err
		}
		d := Download{Time: now, PackageID: r.ID, Recipient: a.Recipient, File: n, FileName: r.Files[n].Name,
			IP: c.IP, UserAgent: c.UserAgent}
		lb := tx.Bucket(bucketLog)
		seq, err := lb.NextSequence()
		if err != nil {
			return fmt.Errorf("link: log sequence: %w", err)
		}
		if err := putJSON(lb, binary.BigEndian.AppendUint64([]byte(r.ID), seq), d); err != nil {
			return err
		}
		return s.audit(tx, hold.Event{MessageID: r.MessageID, Action: "link_download",
			Actor:  hold.Actor{Name: a.Recipient, Role: string(RoleRecipient), IP: c.IP, UserAgent: c.UserAgent},
			Reason: fmt.Sprintf("file %d of %d", n+1, len(r.Files))})
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return fr, nil
}

func (s *Store) readerFor(f *os.File) (*FileReader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("link: stat file: %w", err)
	}
	rs, err := atrest.NewReadSeeker(f, st.Size(), s.keys...)
	if err != nil {
		return nil, fmt.Errorf("link: decrypt file: %w", err)
	}
	return &FileReader{ReadSeeker: rs, c: f}, nil
}

// Revoke withdraws the package of a sender's revocation token: nothing is
// served from then on, and Purge deletes its files. Revoking twice is
// ErrRevoked.
func (s *Store) Revoke(ctx context.Context, h token.Hash, c Client) (*Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *Info
	err := s.db.Update(func(tx *bbolt.Tx) error {
		a, err := resolveTx(tx, h)
		if err != nil {
			return err
		}
		if a.Role != RoleSender {
			return ErrWrongRole
		}
		out, err = s.revokeTx(tx, a.Info.ID, hold.Actor{Name: a.Info.Sender, Role: string(RoleSender), IP: c.IP, UserAgent: c.UserAgent})
		return err
	})
	return out, err
}

// RevokeID withdraws a package by ID, for the console.
func (s *Store) RevokeID(ctx context.Context, id string, by hold.Actor) (*Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *Info
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		out, err = s.revokeTx(tx, id, by)
		return err
	})
	return out, err
}

func (s *Store) revokeTx(tx *bbolt.Tx, id string, by hold.Actor) (*Info, error) {
	r, err := getRecord(tx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch st := r.Status(now); st {
	case StatusRevoked:
		return r.Info.clone(), ErrRevoked
	case StatusExpired:
		return r.Info.clone(), ErrExpired
	}
	r.RevokedAt, r.RevokedBy = now, by.Name
	if err := putRecord(tx, r); err != nil {
		return nil, err
	}
	// The files go at the next Purge instead of at expiry.
	fb := tx.Bucket(bucketFiles)
	if err := fb.Delete(timeKey(r.Expires, id)); err != nil {
		return nil, fmt.Errorf("link: delete file deadline: %w", err)
	}
	if err := fb.Put(timeKey(now, id), nil); err != nil {
		return nil, fmt.Errorf("link: put file deadline: %w", err)
	}
	if err := s.audit(tx, hold.Event{MessageID: r.MessageID, Action: "link_revoked", Actor: by}); err != nil {
		return nil, err
	}
	s.log.Info("link package revoked", "id", id, "message_id", r.MessageID)
	return r.Info.clone(), nil
}

// IsGone reports whether err means the link no longer serves anything.
func IsGone(err error) bool {
	return errors.Is(err, ErrRevoked) || errors.Is(err, ErrExpired) || errors.Is(err, ErrExhausted)
}
