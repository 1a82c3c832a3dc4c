package linkpg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
)

// IssueCode makes a new one-time code for a recipient's link under the
// lock of its token row, so the request limit holds across nodes.
func (s *Store) IssueCode(ctx context.Context, h token.Hash, c link.Client) (code string, a *link.Access, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		var now time.Time
		if a, now, err = s.lockRecipient(ctx, tx, h); err != nil {
			return err
		}
		cs, _, err := getCode(ctx, tx, h)
		if err != nil {
			return err
		}
		var next *link.CodeState
		if code, next, err = cs.Issue(h, now, s.opts); err != nil {
			return err
		}
		v, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("link: encode code: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO link_codes (hash, state) VALUES ($1, $2)
			ON CONFLICT (hash) DO UPDATE SET state = EXCLUDED.state`, h[:], string(v)); err != nil {
			return fmt.Errorf("link: put code: %w", err)
		}
		return s.auditTx(ctx, tx, hold.Event{MessageID: a.Info.MessageID, Action: "link_code_sent",
			Actor: hold.Actor{Name: a.Recipient, Role: string(link.RoleRecipient), IP: c.IP, UserAgent: c.UserAgent}})
	})
	if err != nil {
		return "", a, err
	}
	return code, a, nil
}

func getCode(ctx context.Context, tx pgx.Tx, h token.Hash) (*link.CodeState, bool, error) {
	var cs link.CodeState
	var raw []byte
	err := tx.QueryRow(ctx, `SELECT state FROM link_codes WHERE hash = $1`, h[:]).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return &cs, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("link: get code: %w", err)
	}
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, false, fmt.Errorf("link: decode code: %w", err)
	}
	return &cs, true, nil
}

// VerifyCode checks a typed code under the lock of the link's token row:
// of two nodes given the right code at once, one succeeds and the other
// finds it used.
func (s *Store) VerifyCode(ctx context.Context, h token.Hash, typed string, c link.Client) (*link.Access, error) {
	code, err := link.ParseCode(typed)
	if err != nil {
		return nil, err
	}
	var a *link.Access
	var result error
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		var now time.Time
		if a, now, err = s.lockRecipient(ctx, tx, h); err != nil {
			return err
		}
		cs, found, err := getCode(ctx, tx, h)
		if err != nil {
			return err
		}
		if !found {
			return link.ErrNoCode
		}
		var event string
		if event, result, err = cs.Verify(h, code, now, s.opts); err != nil {
			return err
		}
		v, err := json.Marshal(cs)
		if err != nil {
			return fmt.Errorf("link: encode code: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE link_codes SET state = $2 WHERE hash = $1`, h[:], string(v)); err != nil {
			return fmt.Errorf("link: put code: %w", err)
		}
		if event == "" {
			return nil
		}
		return s.auditTx(ctx, tx, hold.Event{MessageID: a.Info.MessageID, Action: event,
			Actor: hold.Actor{Name: a.Recipient, Role: string(link.RoleRecipient), IP: c.IP, UserAgent: c.UserAgent}})
	})
	if err != nil {
		return a, err
	}
	return a, result
}

// OpenFile opens file n for download. The file's header and last chunk
// are authenticated first; then, under the package row's lock, the
// package is checked live and under its limit, and the download counted
// and logged. The returned reader fetches one chunk at a time.
func (s *Store) OpenFile(ctx context.Context, h token.Hash, n int, c link.Client) (*link.FileReader, error) {
	a, err := s.Resolve(ctx, h)
	if err != nil {
		return nil, err
	}
	if a.Role != link.RoleRecipient {
		return nil, link.ErrWrongRole
	}
	if err := link.LiveErr(a.Info.Status(s.now())); err != nil {
		return nil, err
	}
	if n < 0 || n >= len(a.Info.Files) {
		return nil, link.ErrNoFile
	}
	cr := &chunkReader{ctx: ctx, pool: s.pool, id: a.Info.ID, n: n, cached: -1}
	err = s.pool.QueryRow(ctx, `SELECT size, chunk_size FROM link_files WHERE package_id = $1 AND file_no = $2`,
		a.Info.ID, n).Scan(&cr.size, &cr.chunkSize)
	if errors.Is(err, pgx.ErrNoRows) {
		// Purged since the check above.
		return nil, link.ErrExpired
	}
	if err != nil {
		return nil, fmt.Errorf("link: open file: %w", err)
	}
	rs, err := atrest.NewReadSeeker(cr, cr.size, s.keys...)
	if err != nil {
		return nil, fmt.Errorf("link: decrypt file: %w", err)
	}
	if rs.Size() != a.Info.Files[n].Size {
		return nil, fmt.Errorf("link: file %d of %s has %d bytes, record says %d", n, a.Info.ID, rs.Size(), a.Info.Files[n].Size)
	}
	var file link.File
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		a, err := resolve(ctx, tx, h, "FOR UPDATE OF p")
		if err != nil {
			return err
		}
		r := a.Info
		now := s.now()
		if err := link.LiveErr(r.Status(now)); err != nil {
			return err
		}
		if r.MaxDownloads > 0 && r.Files[n].Downloads >= r.MaxDownloads {
			return link.ErrExhausted
		}
		r.Files[n].Downloads++
		file = r.Files[n]
		if err := putInfo(ctx, tx, r); err != nil {
			return err
		}
		d := link.Download{Time: now, PackageID: r.ID, Recipient: a.Recipient, File: n, FileName: r.Files[n].Name,
			IP: c.IP, UserAgent: c.UserAgent}
		v, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("link: encode download: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO link_log (package_id, entry) VALUES ($1, $2)`, r.ID, string(v)); err != nil {
			return fmt.Errorf("link: put download: %w", err)
		}
		return s.auditTx(ctx, tx, hold.Event{MessageID: r.MessageID, Action: "link_download",
			Actor:  hold.Actor{Name: a.Recipient, Role: string(link.RoleRecipient), IP: c.IP, UserAgent: c.UserAgent},
			Reason: fmt.Sprintf("file %d of %d", n+1, len(r.Files))})
	})
	if err != nil {
		return nil, err
	}
	return link.NewFileReader(rs, file, cr), nil
}

// Revoke withdraws the package of a sender's revocation token.
func (s *Store) Revoke(ctx context.Context, h token.Hash, c link.Client) (*link.Info, error) {
	var out *link.Info
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		a, err := resolve(ctx, tx, h, "FOR UPDATE OF p")
		if err != nil {
			return err
		}
		if a.Role != link.RoleSender {
			return link.ErrWrongRole
		}
		out, err = s.revokeTx(ctx, tx, a.Info, hold.Actor{Name: a.Info.Sender, Role: string(link.RoleSender), IP: c.IP, UserAgent: c.UserAgent})
		return err
	})
	return out, err
}

// RevokeID withdraws a package by ID, for the console.
func (s *Store) RevokeID(ctx context.Context, id string, by hold.Actor) (*link.Info, error) {
	var out *link.Info
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		info, err := getInfo(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		out, err = s.revokeTx(ctx, tx, info, by)
		return err
	})
	return out, err
}

func (s *Store) revokeTx(ctx context.Context, tx pgx.Tx, r *link.Info, by hold.Actor) (*link.Info, error) {
	now := s.now()
	switch r.Status(now) {
	case link.StatusRevoked:
		return r, link.ErrRevoked
	case link.StatusExpired:
		return r, link.ErrExpired
	}
	r.RevokedAt, r.RevokedBy = now, by.Name
	v, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("link: encode package: %w", err)
	}
	// The files go at the next Purge instead of at expiry.
	if _, err := tx.Exec(ctx, `UPDATE link_packages SET info = $2, files_due = $3 WHERE id = $1`, r.ID, string(v), now); err != nil {
		return nil, fmt.Errorf("link: put package: %w", err)
	}
	if err := s.auditTx(ctx, tx, hold.Event{MessageID: r.MessageID, Action: "link_revoked", Actor: by}); err != nil {
		return nil, err
	}
	s.log.Info("link package revoked", "id", r.ID, "message_id", r.MessageID)
	return r, nil
}

// lockRecipient locks the token row of a recipient's link and checks the
// link is still live: code requests and checks run under that lock.
func (s *Store) lockRecipient(ctx context.Context, tx pgx.Tx, h token.Hash) (*link.Access, time.Time, error) {
	a, err := resolve(ctx, tx, h, "FOR UPDATE OF t")
	if err != nil {
		return nil, time.Time{}, err
	}
	if a.Role != link.RoleRecipient {
		return a, time.Time{}, link.ErrWrongRole
	}
	now := s.now()
	if err := link.LiveErr(a.Info.Status(now)); err != nil {
		return a, now, err
	}
	return a, now, nil
}
