package link

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/hold"
)

// Storage is what the pages, the link action and the incident kit need of
// a link store. *Store keeps packages in the node's bbolt DB and files on
// its disk; link/linkpg keeps both in PostgreSQL, shared by the nodes of a
// cluster. Both pass link/linktest, which pins the contract:
//
//   - only token hashes are stored; a token resolves to its package,
//     role and recipient;
//   - a one-time code is issued under the per-link request limit, and a
//     verification uses a try or the code itself exactly once, however
//     many requests (or nodes) race for it;
//   - a download is counted and logged, against the download limit and
//     the package's status, exactly once before any byte is served;
//   - revocation, expiry and the download limit stop everything; Purge
//     drops files at expiry or revocation and records after retention,
//     and two purgers running at once each drop a package at most once.
type Storage interface {
	Create(ctx context.Context, p Package) (*Created, error)
	Resolve(ctx context.Context, h token.Hash) (*Access, error)
	Get(ctx context.Context, id string) (*Info, error)
	ByMessage(ctx context.Context, messageID string) ([]*Info, error)
	Log(ctx context.Context, messageID string) ([]Download, error)
	PackageLog(ctx context.Context, id string) ([]Download, error)
	IssueCode(ctx context.Context, h token.Hash, c Client) (string, *Access, error)
	VerifyCode(ctx context.Context, h token.Hash, typed string, c Client) (*Access, error)
	OpenFile(ctx context.Context, h token.Hash, n int, c Client) (*FileReader, error)
	Revoke(ctx context.Context, h token.Hash, c Client) (*Info, error)
	RevokeID(ctx context.Context, id string, by hold.Actor) (*Info, error)
	Purge(ctx context.Context, now time.Time) (PurgeStats, error)
	// Run purges every interval until ctx ends.
	Run(ctx context.Context, every time.Duration)
	// CodeTTL is a one-time code's lifetime, for the code mail.
	CodeTTL() time.Duration
}

var _ Storage = (*Store)(nil)

// CodeTTL is a one-time code's lifetime.
func (s *Store) CodeTTL() time.Duration { return s.opts.CodeTTL }

// WithDefaults returns o with every zero value replaced by its default.
func (o Options) WithDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	setDefault(&o.CodeTTL, 10*time.Minute)
	setDefault(&o.CodeWindow, time.Hour)
	setDefault(&o.Retention, 30*24*time.Hour)
	setDefault(&o.CodeTries, 5)
	setDefault(&o.CodeRequests, 5)
	setDefault(&o.MaxFiles, 100)
	setDefault(&o.MaxRecipients, 1000)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// LiveErr is the error that refuses a package in status st (nil for
// StatusActive).
func LiveErr(st Status) error { return liveErr(st) }

// TokenRef is a stored token: its hash and what it resolves to.
type TokenRef struct {
	Hash      token.Hash
	Role      Role
	Recipient string
}

// Draft is a validated package about to be stored: its Info (without
// files yet), its fresh tokens, and what Create returns.
type Draft struct {
	Info    Info
	Tokens  []TokenRef
	Created *Created
}

// NewDraft validates p (as Create documents) and makes the package's ID
// and tokens.
func NewDraft(p Package, opts Options, now time.Time) (*Draft, error) {
	s := &Store{opts: opts.WithDefaults()}
	s.opts.Now = func() time.Time { return now }
	if err := s.validate(&p); err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	d := &Draft{Info: Info{
		ID: id, MessageID: p.MessageID, Sender: p.Sender, Recipients: p.Recipients,
		Subject: cleanText(p.Subject, maxSubjectRunes), Created: now.UTC(), Expires: p.Expires.UTC(),
		MaxDownloads: p.MaxDownloads,
	}}
	d.Created = &Created{ID: id, Expires: d.Info.Expires}
	for _, r := range p.Recipients {
		t, err := token.New()
		if err != nil {
			return nil, err
		}
		d.Created.Links = append(d.Created.Links, RecipientLink{Recipient: r, Token: t})
		d.Tokens = append(d.Tokens, TokenRef{Hash: t.Hash(), Role: RoleRecipient, Recipient: r})
	}
	if d.Created.RevokeToken, err = token.New(); err != nil {
		return nil, err
	}
	d.Tokens = append(d.Tokens, TokenRef{Hash: d.Created.RevokeToken.Hash(), Role: RoleSender})
	return d, nil
}

// AddFile records file n (in order) of the draft, its name and type
// cleaned for display and headers.
func (d *Draft) AddFile(name, ctype string, size int64) {
	n := len(d.Info.Files)
	d.Info.Files = append(d.Info.Files, File{Name: cleanName(name, n), Type: cleanType(ctype), Size: size})
	d.Created.Files = append(d.Created.Files, d.Info.Files[n])
}

// CreatedEvent is the audit event of a stored draft.
func (d *Draft) CreatedEvent() hold.Event {
	return hold.Event{MessageID: d.Info.MessageID, Action: "link_created",
		Actor:  hold.Actor{Name: d.Info.Sender, Role: string(RoleSender)},
		Reason: fmt.Sprintf("%d files for %d recipients until %s", len(d.Info.Files), len(d.Info.Recipients), d.Info.Expires.Format("2006-01-02T15:04:05Z"))}
}

// CodeState is a link's current one-time code, stored as a salted hash,
// and the times codes were requested within the rate window. A store keeps
// it per recipient token and changes it only under that token's lock.
type CodeState struct {
	Salt     []byte      `json:"salt"`
	Hash     []byte      `json:"hash"`
	Expires  time.Time   `json:"expires"`
	Tries    int         `json:"tries"`
	Used     bool        `json:"used,omitempty"`
	Requests []time.Time `json:"requests"`
}

type codeRec = CodeState

// Issue returns a fresh code for link h and the state that replaces cs,
// or ErrCodeLimit when the window's requests are used up.
func (cs *CodeState) Issue(h token.Hash, now time.Time, opts Options) (string, *CodeState, error) {
	var recent []time.Time
	for _, t := range cs.Requests {
		if now.Sub(t) < opts.CodeWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= opts.CodeRequests {
		return "", nil, ErrCodeLimit
	}
	code, err := newCode()
	if err != nil {
		return "", nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", nil, fmt.Errorf("link: code salt: %w", err)
	}
	return code, &CodeState{Salt: salt, Hash: codeHash(salt, h, code), Expires: now.Add(opts.CodeTTL),
		Requests: append(recent, now)}, nil
}

// Verify applies a parsed code to cs. A refusal that changes nothing
// (no code, used, locked, expired) is returned as err. Otherwise cs was
// changed and must be stored; event is the audit action to write ("" for
// none) and result what VerifyCode returns (nil: the right code).
func (cs *CodeState) Verify(h token.Hash, code string, now time.Time, opts Options) (event string, result, err error) {
	switch {
	case len(cs.Hash) == 0:
		return "", nil, ErrNoCode
	case cs.Used:
		return "", nil, ErrCodeUsed
	case cs.Tries >= opts.CodeTries:
		return "", nil, ErrCodeLocked
	case !now.Before(cs.Expires):
		return "", nil, ErrCodeExpired
	}
	if subtle.ConstantTimeCompare(codeHash(cs.Salt, h, code), cs.Hash) != 1 {
		cs.Tries++
		if cs.Tries >= opts.CodeTries {
			return "link_code_locked", ErrCodeLocked, nil
		}
		return "", &WrongCodeError{Left: opts.CodeTries - cs.Tries}, nil
	}
	cs.Used = true
	return "link_verified", nil, nil
}

// NewFileReader makes the FileReader another Storage returns: rs reads
// the file, c is closed with it.
func NewFileReader(rs *atrest.ReadSeeker, f File, c io.Closer) *FileReader {
	return &FileReader{ReadSeeker: rs, File: f, c: c}
}

// Exported is one package as Export hands it out for an import into
// another Storage: its record, token hashes, download log and the
// encrypted files (as stored, under the same link key). Codes are not
// exported: a recipient asks for a new one.
type Exported struct {
	Info   Info
	Tokens []TokenRef
	Log    []Download
	// Open returns encrypted file n and its size.
	Open func(n int) (io.ReadCloser, int64, error)
}

// RunPurge calls purge every interval until ctx ends; a failed or
// panicking purge is logged and retried at the next tick.
func RunPurge(ctx context.Context, every time.Duration, log *slog.Logger, now func() time.Time,
	purge func(context.Context, time.Time) (PurgeStats, error)) {
	if every <= 0 {
		every = 10 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		purgeOnce(ctx, log, now, purge)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
