package link

import (
	"errors"
	"io"
	"time"

	"github.com/sendguard/sendguard/crypto/token"
)

// Errors callers tell apart with errors.Is.
var (
	ErrInvalid   = errors.New("link: invalid package")
	ErrNotFound  = errors.New("link: unknown link")
	ErrWrongRole = errors.New("link: link does not allow this")
	ErrRevoked   = errors.New("link: revoked by the sender")
	ErrExpired   = errors.New("link: expired")
	ErrExhausted = errors.New("link: download limit reached")
	ErrNoFile    = errors.New("link: no such file")

	ErrNoCode      = errors.New("link: no code requested")
	ErrCodeWrong   = errors.New("link: wrong code")
	ErrCodeLocked  = errors.New("link: too many wrong codes")
	ErrCodeExpired = errors.New("link: code expired")
	ErrCodeUsed    = errors.New("link: code already used")
	ErrCodeLimit   = errors.New("link: too many codes requested")
)

// Role is what a token allows.
type Role string

// Roles of link tokens.
const (
	RoleRecipient Role = "recipient" // view, request a code, download
	RoleSender    Role = "sender"    // view the log, revoke
)

// Status is a package's state at a given time.
type Status string

// Statuses, in the order they win: a revoked package stays revoked after
// it expires.
const (
	StatusActive    Status = "active"
	StatusRevoked   Status = "revoked"
	StatusExpired   Status = "expired"
	StatusExhausted Status = "exhausted"
)

// FileIn is one attachment to store. Reader is read to its end once.
type FileIn struct {
	Name   string
	Type   string
	Reader io.Reader
}

// Package is what Create stores: the attachments of one message and who
// may fetch them until when.
type Package struct {
	MessageID  string
	Sender     string
	Recipients []string
	Subject    string
	Expires    time.Time
	// MaxDownloads bounds the downloads of each file, over all recipients;
	// zero means no limit.
	MaxDownloads int
	Files        []FileIn
}

// Created is what Create returns: the secrets to put in the mails. They
// are not stored anywhere.
type Created struct {
	ID          string
	Links       []RecipientLink
	RevokeToken token.Token
	Expires     time.Time
	Files       []File
}

// RecipientLink is one recipient's link token.
type RecipientLink struct {
	Recipient string
	Token     token.Token
}

// File is a stored file's metadata.
type File struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Size      int64  `json:"size"`
	Downloads int    `json:"downloads"`
}

// Info is a stored package without its secrets.
type Info struct {
	ID           string    `json:"id"`
	MessageID    string    `json:"message_id"`
	Sender       string    `json:"sender"`
	Recipients   []string  `json:"recipients"`
	Subject      string    `json:"subject"`
	Created      time.Time `json:"created"`
	Expires      time.Time `json:"expires"`
	MaxDownloads int       `json:"max_downloads,omitempty"`
	Files        []File    `json:"files"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	RevokedBy    string    `json:"revoked_by,omitempty"`
	// FilesPurged is set once the files are deleted from disk.
	FilesPurged bool `json:"files_purged,omitempty"`
}

// Status is the package's state at now.
func (i *Info) Status(now time.Time) Status {
	switch {
	case !i.RevokedAt.IsZero():
		return StatusRevoked
	case !now.Before(i.Expires) || i.FilesPurged:
		return StatusExpired
	case i.MaxDownloads > 0 && i.allDownloaded():
		return StatusExhausted
	}
	return StatusActive
}

func (i *Info) allDownloaded() bool {
	for _, f := range i.Files {
		if f.Downloads < i.MaxDownloads {
			return false
		}
	}
	return true
}

// Remaining is how many more downloads file n allows, or -1 for no limit.
func (i *Info) Remaining(n int) int {
	if i.MaxDownloads == 0 {
		return -1
	}
	return max(0, i.MaxDownloads-i.Files[n].Downloads)
}

func (i *Info) clone() *Info {
	c := *i
	c.Recipients = append([]string(nil), i.Recipients...)
	c.Files = append([]File(nil), i.Files...)
	return &c
}

// Access is a resolved token: the package and who holds the link.
type Access struct {
	Info      *Info
	Role      Role
	Recipient string // for RoleRecipient
}

// Client describes who made a request, for the download log.
type Client struct {
	IP        string
	UserAgent string
}

// Download is one entry of a package's download log.
type Download struct {
	Time      time.Time `json:"time"`
	PackageID string    `json:"package_id"`
	Recipient string    `json:"recipient"`
	File      int       `json:"file"`
	FileName  string    `json:"file_name"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}
