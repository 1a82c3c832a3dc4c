package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"go.etcd.io/bbolt"
)

// Roles of console accounts, weakest first.
const (
	RoleViewer   = "viewer"   // reads the queue, messages, audit log, dashboard
	RoleReviewer = "reviewer" // also releases and rejects
	RoleAdmin    = "admin"    // also downloads attachments, verifies the audit chain
)

// Errors of account management; compare with errors.Is.
var (
	ErrUserExists   = errors.New("console: user already exists")
	ErrUserNotFound = errors.New("console: no such user")
	ErrInvalidUser  = errors.New("console: invalid user")
)

var bucketUsers = []byte("console_users")

// user is one console account as stored.
type user struct {
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"password_hash"`
	TOTPSecret   string    `json:"totp_secret,omitempty"`
	LastTOTPStep int64     `json:"last_totp_step,omitempty"` // refuses replayed codes
	Lang         string    `json:"lang,omitempty"`
	Created      time.Time `json:"created"`
	Disabled     bool      `json:"disabled,omitempty"`
}

// roleRank orders roles so that "at least reviewer" is a comparison.
func roleRank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleReviewer:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Users manages console accounts in the gateway's DB. The CLI (sendguard
// user add|passwd|totp-reset) and the console share it.
type Users struct {
	store  Accounts
	issuer string
	now    func() time.Time
	argon  argonParams

	dummyOnce sync.Once
	dummyHash string
}

// dummy is a hash checked when the account does not exist, so a wrong
// name costs as long as a wrong password.
func (u *Users) dummy() string {
	u.dummyOnce.Do(func() {
		u.dummyHash, _ = hashPassword("sendguard-no-such-user", u.argon)
	})
	return u.dummyHash
}

// NewUsers creates the accounts bucket if needed. issuer names the service
// in authenticator apps ("" means "sendguard"); now nil means time.Now.
func NewUsers(db *bbolt.DB, issuer string, now func() time.Time) (*Users, error) {
	store, err := NewBoltAccounts(db)
	if err != nil {
		return nil, err
	}
	return NewUsersIn(store, issuer, now), nil
}

// NewUsersIn manages the accounts of store (shared by several nodes, or
// this node's own).
func NewUsersIn(store Accounts, issuer string, now func() time.Time) *Users {
	if issuer == "" {
		issuer = "sendguard"
	}
	if now == nil {
		now = time.Now
	}
	return &Users{store: store, issuer: issuer, now: now, argon: defaultArgon}
}

func validName(name string) bool {
	if name == "" || len(name) > 64 || strings.ContainsRune("-.", rune(name[0])) {
		// A leading '-' is an option mistyped as a name ("user add -h").
		return false
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r)) {
			return false
		}
	}
	return true
}

func validPassword(pw string) error {
	if len([]rune(pw)) < minPasswordLen {
		return fmt.Errorf("%w: password shorter than %d characters", ErrInvalidUser, minPasswordLen)
	}
	if len(pw) > 1024 {
		return fmt.Errorf("%w: password longer than 1024 bytes", ErrInvalidUser)
	}
	return nil
}

// AddUser creates an account and returns the otpauth:// URL of its new
// TOTP secret, to be shown once (as text or a QR code) to the user.
func (u *Users) AddUser(name, role, password string) (totpURL string, err error) {
	name = strings.ToLower(strings.TrimSpace(name))
	switch {
	case !validName(name):
		return "", fmt.Errorf("%w: name %q (letters, digits, . _ - @; up to 64)", ErrInvalidUser, name)
	case roleRank(role) == 0:
		return "", fmt.Errorf("%w: role %q (viewer, reviewer or admin)", ErrInvalidUser, role)
	}
	if err := validPassword(password); err != nil {
		return "", err
	}
	hash, err := hashPassword(password, u.argon)
	if err != nil {
		return "", err
	}
	key, err := u.newTOTP(name)
	if err != nil {
		return "", err
	}
	rec := user{Name: name, Role: role, PasswordHash: hash, TOTPSecret: key.Secret(), Created: u.now().UTC()}
	v, err := json.Marshal(&rec)
	if err != nil {
		return "", fmt.Errorf("encode user: %w", err)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if err := u.store.AddUser(ctx, name, v); err != nil {
		return "", err
	}
	return key.URL(), nil
}

// SetPassword replaces an account's password.
func (u *Users) SetPassword(name, password string) error {
	if err := validPassword(password); err != nil {
		return err
	}
	hash, err := hashPassword(password, u.argon)
	if err != nil {
		return err
	}
	return u.update(name, func(rec *user) error {
		rec.PasswordHash = hash
		return nil
	}, true)
}

// ResetTOTP gives an account a new TOTP secret and returns its otpauth://
// URL; codes of the old secret stop working at once.
func (u *Users) ResetTOTP(name string) (totpURL string, err error) {
	name = strings.ToLower(strings.TrimSpace(name))
	key, err := u.newTOTP(name)
	if err != nil {
		return "", err
	}
	err = u.update(name, func(rec *user) error {
		rec.TOTPSecret, rec.LastTOTPStep = key.Secret(), 0
		return nil
	}, true)
	if err != nil {
		return "", err
	}
	return key.URL(), nil
}

// SetRole changes an account's role; it applies to live sessions at once.
func (u *Users) SetRole(name, role string) error {
	if roleRank(role) == 0 {
		return fmt.Errorf("%w: role %q", ErrInvalidUser, role)
	}
	return u.update(name, func(rec *user) error {
		rec.Role = role
		return nil
	})
}

// SetDisabled blocks or unblocks an account; blocking ends its sessions.
func (u *Users) SetDisabled(name string, disabled bool) error {
	return u.update(name, func(rec *user) error {
		rec.Disabled = disabled
		return nil
	}, disabled)
}

// UserInfo is what `sendguard user list` shows of an account.
type UserInfo struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled"`
	TOTP     bool      `json:"totp"`
}

// ListUsers returns every account, by name.
func (u *Users) ListUsers() ([]UserInfo, error) {
	out := []UserInfo{}
	ctx, cancel := storeCtx()
	defer cancel()
	recs, err := u.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range recs {
		var rec user
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("decode user: %w", err)
		}
		out = append(out, UserInfo{Name: rec.Name, Role: rec.Role, Created: rec.Created, Disabled: rec.Disabled, TOTP: rec.TOTPSecret != ""})
	}
	return out, nil
}

// DeleteUser removes an account and ends its sessions. Its audit events
// stay: they name the account, not point to it.
func (u *Users) DeleteUser(name string) error {
	ctx, cancel := storeCtx()
	defer cancel()
	return u.store.DeleteUser(ctx, strings.ToLower(strings.TrimSpace(name)))
}

// SetLanguage stores the account's console language ("ja" or "en").
func (u *Users) SetLanguage(name, lang string) error {
	if lang != "ja" && lang != "en" {
		return fmt.Errorf("%w: language %q", ErrInvalidUser, lang)
	}
	return u.update(name, func(rec *user) error {
		rec.Lang = lang
		return nil
	})
}

func (u *Users) newTOTP(name string) (*otp.Key, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: u.issuer, AccountName: name})
	if err != nil {
		return nil, fmt.Errorf("generate totp secret: %w", err)
	}
	return key, nil
}

// update changes one account; with revoke its sessions end in the same
// transaction (a new password or second factor signs everyone out).
func (u *Users) update(name string, fn func(*user) error, revoke ...bool) error {
	name = strings.ToLower(strings.TrimSpace(name))
	ctx, cancel := storeCtx()
	defer cancel()
	return u.store.UpdateUser(ctx, name, len(revoke) > 0 && revoke[0], func(v []byte) ([]byte, error) {
		rec, err := decodeUser(name, v)
		if err != nil {
			return nil, err
		}
		if err := fn(rec); err != nil {
			return nil, err
		}
		return json.Marshal(rec)
	})
}

// get reads an account.
func (u *Users) get(name string) (*user, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	ctx, cancel := storeCtx()
	defer cancel()
	v, err := u.store.User(ctx, name)
	if err != nil {
		return nil, err
	}
	return decodeUser(name, v)
}

// checkTOTP verifies a code against the account's secret, allowing one
// 30-second step of clock skew each way, and refuses a step already used,
// so an observed code cannot be replayed.
func (u *Users) checkTOTP(name, code string, now time.Time) (bool, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return false, nil
	}
	ok := false
	err := u.update(name, func(rec *user) error {
		step := now.Unix() / 30
		for _, s := range []int64{step - 1, step, step + 1} {
			if s <= rec.LastTOTPStep {
				continue
			}
			want, err := totp.GenerateCodeCustom(rec.TOTPSecret, time.Unix(s*30, 0), totp.ValidateOpts{
				Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
			})
			if err != nil {
				return fmt.Errorf("totp code: %w", err)
			}
			if constantEqual(want, code) {
				rec.LastTOTPStep, ok = s, true
				return nil
			}
		}
		return errNoChange
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return ok, err
}

// errNoChange rolls back an update that found nothing to write.
var errNoChange = errors.New("no change")

func decodeUser(name string, v []byte) (*user, error) {
	var rec user
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode user %s: %w", name, err)
	}
	return &rec, nil
}
