// Package linkpg keeps download-link packages in PostgreSQL, shared by the
// nodes of a cluster (storage.driver: postgres): a link made on one node
// is served by any. It implements link.Storage with the tables of
// queue/pgstore's migration 00004.
//
// Files are stored as the same atrest ciphertext a single node writes to
// disk, under the nodes' shared link.key (which never enters the
// database), in rows of ChunkSize bytes: a download reads one chunk at a
// time, so no request holds a whole file.
//
// Exactly-once steps across nodes: a download, a revocation and a
// purge lock the package row; code requests and verifications lock the
// token row. Purge takes its due rows with FOR UPDATE SKIP LOCKED, so
// nodes purging together split the work instead of repeating it.
package linkpg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
)

// ChunkSize is the size of a stored chunk of an encrypted file.
const ChunkSize = 256 << 10

// purgeBatch bounds the packages of one purge transaction.
const purgeBatch = 100

// Auditor appends events to the cluster's audit chain in the caller's
// transaction; *pgstore.Store is one.
type Auditor interface {
	AppendEventTx(ctx context.Context, tx pgx.Tx, e hold.Event) (hold.Event, error)
}

// Store is a link.Storage on PostgreSQL. It is safe for concurrent use,
// by any number of nodes on the same database.
type Store struct {
	pool  *pgxpool.Pool
	key   *atrest.MasterKey
	keys  []*atrest.MasterKey
	opts  link.Options
	audit Auditor
	log   *slog.Logger
}

var _ link.Storage = (*Store)(nil)

// New returns the store on pool, whose schema must be migrated. key
// encrypts new files (opts.OldKeys still decrypt); audit may be nil.
// opts.Audit, the bbolt auditor, is not used.
func New(pool *pgxpool.Pool, key *atrest.MasterKey, opts link.Options, audit Auditor) (*Store, error) {
	if pool == nil || key == nil {
		return nil, fmt.Errorf("%w: store needs a pool and a key", link.ErrInvalid)
	}
	opts = opts.WithDefaults()
	return &Store{pool: pool, key: key, keys: append([]*atrest.MasterKey{key}, opts.OldKeys...), opts: opts,
		audit: audit, log: opts.Logger.With("component", "link")}, nil
}

func (s *Store) now() time.Time { return s.opts.Now().UTC() }

// CodeTTL is a one-time code's lifetime.
func (s *Store) CodeTTL() time.Duration { return s.opts.CodeTTL }

// Run purges every interval until ctx ends.
func (s *Store) Run(ctx context.Context, every time.Duration) {
	link.RunPurge(ctx, every, s.log, s.now, s.Purge)
}

func (s *Store) auditTx(ctx context.Context, tx pgx.Tx, e hold.Event) error {
	if s.audit == nil {
		return nil
	}
	if _, err := s.audit.AppendEventTx(ctx, tx, e); err != nil {
		return fmt.Errorf("link: audit: %w", err)
	}
	return nil
}

// Create stores a package in one transaction: the encrypted files chunk
// by chunk, the record, the token hashes and the "link_created" event. On
// error nothing is left behind.
func (s *Store) Create(ctx context.Context, p link.Package) (*link.Created, error) {
	d, err := link.NewDraft(p, s.opts, s.now())
	if err != nil {
		return nil, err
	}
	id := d.Info.ID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var sizes []int64
		for n, f := range p.Files {
			if f.Reader == nil {
				return fmt.Errorf("link: store file %d: %w: file without reader", n, link.ErrInvalid)
			}
			size, enc, err := s.writeFile(ctx, tx, id, n, f.Reader)
			if err != nil {
				return fmt.Errorf("link: store file %d: %w", n, err)
			}
			d.AddFile(f.Name, f.Type, size)
			sizes = append(sizes, enc)
		}
		if err := insertPackage(ctx, tx, &d.Info, s.opts.Retention); err != nil {
			return err
		}
		if err := insertFiles(ctx, tx, id, sizes); err != nil {
			return err
		}
		if err := insertTokens(ctx, tx, id, d.Tokens); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, d.CreatedEvent())
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("link: commit package: %w", err)
	}
	s.log.Info("link package created", "id", id, "message_id", d.Info.MessageID, "files", len(d.Info.Files), "recipients", len(d.Info.Recipients))
	return d.Created, nil
}

func insertPackage(ctx context.Context, tx pgx.Tx, info *link.Info, retention time.Duration) error {
	v, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("link: encode package: %w", err)
	}
	filesDue := info.Expires
	if !info.RevokedAt.IsZero() {
		filesDue = info.RevokedAt
	}
	_, err = tx.Exec(ctx, `INSERT INTO link_packages (id, message_id, created, info, files_due, records_due)
		VALUES ($1, $2, $3, $4, $5, $6)`, info.ID, info.MessageID, info.Created, string(v), filesDue, info.Expires.Add(retention))
	if err != nil {
		return fmt.Errorf("link: put package: %w", err)
	}
	return nil
}

func insertFiles(ctx context.Context, tx pgx.Tx, id string, sizes []int64) error {
	for n, size := range sizes {
		if _, err := tx.Exec(ctx, `INSERT INTO link_files (package_id, file_no, size, chunk_size) VALUES ($1, $2, $3, $4)`,
			id, n, size, ChunkSize); err != nil {
			return fmt.Errorf("link: put file: %w", err)
		}
	}
	return nil
}

func insertTokens(ctx context.Context, tx pgx.Tx, id string, toks []link.TokenRef) error {
	for _, t := range toks {
		if _, err := tx.Exec(ctx, `INSERT INTO link_tokens (hash, package_id, role, recipient) VALUES ($1, $2, $3, $4)`,
			t.Hash[:], id, string(t.Role), t.Recipient); err != nil {
			return fmt.Errorf("link: put token: %w", err)
		}
	}
	return nil
}

// writeFile encrypts r into the chunks of file n and returns the
// plaintext and the encrypted sizes.
func (s *Store) writeFile(ctx context.Context, tx pgx.Tx, id string, n int, r io.Reader) (int64, int64, error) {
	cw := &chunkWriter{ctx: ctx, tx: tx, id: id, n: n, buf: make([]byte, 0, ChunkSize)}
	ew, err := atrest.NewWriter(cw, s.key)
	if err != nil {
		return 0, 0, err
	}
	size, err := io.Copy(ew, r)
	if err != nil {
		return 0, 0, fmt.Errorf("read attachment: %w", err)
	}
	if err := ew.Close(); err != nil {
		return 0, 0, err
	}
	if err := cw.flush(); err != nil {
		return 0, 0, err
	}
	return size, cw.total, nil
}

// chunkWriter stores what is written to it in rows of ChunkSize bytes.
type chunkWriter struct {
	ctx   context.Context
	tx    pgx.Tx
	id    string
	n     int
	buf   []byte
	next  int
	total int64
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := min(len(p), ChunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, written = p[k:], written+k
		if len(w.buf) == ChunkSize {
			if err := w.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.tx.Exec(w.ctx, `INSERT INTO link_chunks (package_id, file_no, chunk_no, data) VALUES ($1, $2, $3, $4)`,
		w.id, w.n, w.next, w.buf); err != nil {
		return fmt.Errorf("put chunk: %w", err)
	}
	w.total += int64(len(w.buf))
	w.next++
	w.buf = w.buf[:0]
	return nil
}

// chunkReader reads an encrypted file's chunks on demand, keeping only
// the last one read.
type chunkReader struct {
	ctx       context.Context
	pool      *pgxpool.Pool
	id        string
	n         int
	size      int64
	chunkSize int64
	cached    int64
	data      chunkBuf
}

// chunkBuf takes a scanned bytea into its own memory, reused from chunk
// to chunk (pgx would allocate a new slice for each).
type chunkBuf []byte

func (b *chunkBuf) ScanBytes(v []byte) error {
	*b = append((*b)[:0], v...)
	return nil
}

func (r *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	read := 0
	for len(p) > 0 {
		if off >= r.size {
			return read, io.EOF
		}
		ci := off / r.chunkSize
		if ci != r.cached {
			r.cached, r.data = -1, r.data[:0]
			err := r.pool.QueryRow(r.ctx, `SELECT data FROM link_chunks WHERE package_id = $1 AND file_no = $2 AND chunk_no = $3`,
				r.id, r.n, ci).Scan(&r.data)
			if err != nil {
				return read, fmt.Errorf("link: read chunk %d of file %d of %s: %w", ci, r.n, r.id, err)
			}
			r.cached = ci
		}
		in := off - ci*r.chunkSize
		if in >= int64(len(r.data)) {
			return read, fmt.Errorf("link: chunk %d of file %d of %s is short", ci, r.n, r.id)
		}
		k := copy(p, r.data[in:])
		p, off, read = p[k:], off+int64(k), read+k
	}
	return read, nil
}

// Close drops the cached chunk.
func (r *chunkReader) Close() error {
	r.data, r.cached = nil, -1
	return nil
}

// Resolve finds the package a token's hash belongs to; it changes
// nothing.
func (s *Store) Resolve(ctx context.Context, h token.Hash) (*link.Access, error) {
	return resolve(ctx, s.pool, h, "")
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// resolve reads a token and its package; lock is "", "FOR UPDATE OF t" or
// "FOR UPDATE OF p".
func resolve(ctx context.Context, q querier, h token.Hash, lock string) (*link.Access, error) {
	var role, rcpt string
	var raw []byte
	err := q.QueryRow(ctx, `SELECT t.role, t.recipient, p.info FROM link_tokens t
		JOIN link_packages p ON p.id = t.package_id WHERE t.hash = $1 `+lock, h[:]).Scan(&role, &rcpt, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, link.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("link: resolve: %w", err)
	}
	info, err := decodeInfo(raw)
	if err != nil {
		return nil, err
	}
	return &link.Access{Info: info, Role: link.Role(role), Recipient: rcpt}, nil
}

func decodeInfo(raw []byte) (*link.Info, error) {
	var info link.Info
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("link: decode package: %w", err)
	}
	return &info, nil
}

func getInfo(ctx context.Context, q querier, id, lock string) (*link.Info, error) {
	var raw []byte
	err := q.QueryRow(ctx, `SELECT info FROM link_packages WHERE id = $1 `+lock, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, link.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("link: get package: %w", err)
	}
	return decodeInfo(raw)
}

func putInfo(ctx context.Context, tx pgx.Tx, info *link.Info) error {
	v, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("link: encode package: %w", err)
	}
	if _, err = tx.Exec(ctx, `UPDATE link_packages SET info = $2 WHERE id = $1`, info.ID, string(v)); err != nil {
		return fmt.Errorf("link: put package: %w", err)
	}
	return nil
}

// Get returns a package by ID.
func (s *Store) Get(ctx context.Context, id string) (*link.Info, error) {
	return getInfo(ctx, s.pool, id, "")
}

// ByMessage returns the packages made for a message, oldest first.
func (s *Store) ByMessage(ctx context.Context, messageID string) ([]*link.Info, error) {
	rows, err := s.pool.Query(ctx, `SELECT info FROM link_packages WHERE message_id = $1 ORDER BY created, id`, messageID)
	if err != nil {
		return nil, fmt.Errorf("link: by message: %w", err)
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("link: by message: %w", err)
	}
	var out []*link.Info
	for _, raw := range raws {
		info, err := decodeInfo(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Log returns the downloads of every package of a message, in time order
// within each package.
func (s *Store) Log(ctx context.Context, messageID string) ([]link.Download, error) {
	return s.queryLog(ctx, `SELECT l.entry FROM link_log l JOIN link_packages p ON p.id = l.package_id
		WHERE p.message_id = $1 ORDER BY p.created, p.id, l.seq`, messageID)
}

// PackageLog returns one package's downloads in time order.
func (s *Store) PackageLog(ctx context.Context, id string) ([]link.Download, error) {
	return s.queryLog(ctx, `SELECT entry FROM link_log WHERE package_id = $1 ORDER BY seq`, id)
}

func (s *Store) queryLog(ctx context.Context, q, arg string) ([]link.Download, error) {
	rows, err := s.pool.Query(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("link: log: %w", err)
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("link: log: %w", err)
	}
	var out []link.Download
	for _, raw := range raws {
		var d link.Download
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("link: decode download: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}
