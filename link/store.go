package link

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
)

var (
	bucketPackages = []byte("link_packages")
	bucketTokens   = []byte("link_tokens")
	bucketCodes    = []byte("link_codes")
	bucketByMsg    = []byte("link_by_msg")
	bucketFiles    = []byte("link_files")
	bucketExpiry   = []byte("link_expiry")
	bucketLog      = []byte("link_log")
)

var allBuckets = [][]byte{bucketPackages, bucketTokens, bucketCodes, bucketByMsg, bucketFiles, bucketExpiry, bucketLog}

// Auditor appends events to the audit log in the caller's transaction;
// *hold.Store is one.
type Auditor interface {
	AppendEventTx(tx *bbolt.Tx, e hold.Event) (hold.Event, error)
}

// Options configure a Store. Zero values mean the defaults named.
type Options struct {
	// OldKeys still decrypt files written before a key rotation.
	OldKeys []*atrest.MasterKey
	// Audit receives created, download, revoked and purged events; nil
	// means none are written.
	Audit Auditor
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// CodeTTL is a one-time code's lifetime (10 minutes).
	CodeTTL time.Duration
	// CodeTries is the number of wrong codes that lock a code (5).
	CodeTries int
	// CodeRequests codes may be requested per link within CodeWindow
	// (5 per hour).
	CodeRequests int
	CodeWindow   time.Duration
	// Retention keeps records and the download log after expiry
	// (30 days); files are deleted at expiry regardless.
	Retention time.Duration
	// MaxFiles and MaxRecipients bound one package (100 and 1000).
	MaxFiles      int
	MaxRecipients int
}

// Store keeps link packages: records in bbolt, files encrypted under dir.
// It is safe for concurrent use.
type Store struct {
	db   *bbolt.DB
	dir  string
	key  *atrest.MasterKey
	keys []*atrest.MasterKey
	opts Options
	log  *slog.Logger
}

// New creates the store's buckets and directory. The DB stays owned by the
// caller.
func New(db *bbolt.DB, dir string, key *atrest.MasterKey, opts Options) (*Store, error) {
	if db == nil || key == nil || dir == "" {
		return nil, fmt.Errorf("%w: store needs a db, a directory and a key", ErrInvalid)
	}
	opts = opts.WithDefaults()
	log := opts.Logger
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("link: create directory: %w", err)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("link: init store: %w", err)
	}
	return &Store{db: db, dir: dir, key: key, keys: append([]*atrest.MasterKey{key}, opts.OldKeys...),
		opts: opts, log: log.With("component", "link")}, nil
}

func setDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func (s *Store) now() time.Time { return s.opts.Now().UTC() }

// record is the stored form of a package: its Info plus the hashes of its
// tokens, so that Purge can find them.
type record struct {
	Info
	Tokens []token.Hash `json:"tokens"`
}

// tokenRec is what a token hash resolves to.
type tokenRec struct {
	Package   string `json:"package"`
	Role      Role   `json:"role"`
	Recipient string `json:"recipient,omitempty"`
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("link: package id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func (s *Store) pkgDir(id string) string { return filepath.Join(s.dir, id) }

func (s *Store) filePath(id string, n int) string {
	return filepath.Join(s.dir, id, fmt.Sprint(n))
}

func getRecord(tx *bbolt.Tx, id string) (*record, error) {
	v := tx.Bucket(bucketPackages).Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("link: decode package %s: %w", id, err)
	}
	return &r, nil
}

func putRecord(tx *bbolt.Tx, r *record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("link: encode package: %w", err)
	}
	if err := tx.Bucket(bucketPackages).Put([]byte(r.ID), v); err != nil {
		return fmt.Errorf("link: put package: %w", err)
	}
	return nil
}

func getToken(tx *bbolt.Tx, h token.Hash) (*tokenRec, error) {
	v := tx.Bucket(bucketTokens).Get(h[:])
	if v == nil {
		return nil, ErrNotFound
	}
	var t tokenRec
	if err := json.Unmarshal(v, &t); err != nil {
		return nil, fmt.Errorf("link: decode token: %w", err)
	}
	return &t, nil
}

// lp is a 2-byte length prefix followed by s, so no message ID's keys are
// a prefix of another's.
func lp(s string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(s)))
	return append(b, s...)
}

// timeKey is t (8 bytes, big-endian Unix nanoseconds) ‖ id.
func timeKey(t time.Time, id string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())), id...)
}

// audit appends an event when an Auditor is configured.
func (s *Store) audit(tx *bbolt.Tx, e hold.Event) error {
	if s.opts.Audit == nil {
		return nil
	}
	if _, err := s.opts.Audit.AppendEventTx(tx, e); err != nil {
		return fmt.Errorf("link: audit: %w", err)
	}
	return nil
}
