package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sendguard/sendguard/gateway/delivery"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/spool"
)

// AdminSocket is the admin API's Unix socket, relative to data_dir. Only
// the account running sendguard (mode 0600) can use it; the queue CLI
// talks to it, so no admin token exists to leak.
const AdminSocket = "admin.sock"

// Admin serves the queue operations shared by the CLI (and later the
// console): list, show, retry, delete.
type Admin struct {
	Store  *spool.Store
	Queue  AdminQueue
	Runner *delivery.Runner
	// Users manages console accounts (sendguard user ...); nil disables it.
	Users UserAdmin
	Log   *slog.Logger
	// Mux, when set, carries routes registered beside the admin API's own
	// (the console account commands); nil starts an empty one.
	Mux *http.ServeMux
	// Reload reloads the configuration (sendguard reload); nil refuses.
	Reload ReloadFunc
	// Shared, when set, is the held queue several nodes share: list and
	// show include the messages it holds that are not in this node's spool.
	Shared SharedQueue
}

// SharedQueue is the held queue nodes share (cluster.Node is one).
type SharedQueue interface {
	SharedList(ctx context.Context, state string, all bool) ([]*spool.Record, error)
	Message(ctx context.Context, id string) (*spool.Record, error)
}

// AdminQueue is what the admin API needs of the message state machine
// (*queue.Queue is one). Its errors are queue.ErrNotFound and
// *queue.StateError (errors.Is queue.ErrIllegal) for refused actions.
type AdminQueue interface {
	Decide(ctx context.Context, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) (*hold.Record, error)
	Delete(ctx context.Context, id string, actor hold.Actor, reason string) error
	Events(ctx context.Context, id string) ([]hold.Event, error)
	Verify(ctx context.Context) (uint64, error)
	Retry(ctx context.Context, id string) error
}

// HeaderOSUser carries the OS account the CLI runs as, for the audit log;
// osUser accepts a short single-line name only.
const HeaderOSUser = "X-Sendguard-OS-User"

func osUser(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	return s
}

// Summary is one line of `sendguard queue list`.
type Summary struct {
	ID          string    `json:"id"`
	State       string    `json:"state"`
	Kind        string    `json:"kind"`
	MailFrom    string    `json:"mail_from"`
	Rcpts       int       `json:"rcpts"`
	Pending     int       `json:"pending"`
	Size        int64     `json:"size"`
	ReceivedAt  time.Time `json:"received_at"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Rules       []string  `json:"rules,omitempty"`
	Actions     []string  `json:"actions,omitempty"`
}

// Handler returns the admin API.
func (a *Admin) Handler() http.Handler {
	mux := a.Mux
	if mux == nil {
		mux = http.NewServeMux()
	}
	mux.HandleFunc("GET /v1/queue", a.list)
	mux.HandleFunc("GET /v1/queue/{id}", a.show)
	mux.HandleFunc("POST /v1/queue/{id}/retry", a.retry)
	mux.HandleFunc("DELETE /v1/queue/{id}", a.delete)
	mux.HandleFunc("POST /v1/hold/{id}/{action}", a.decide)
	mux.HandleFunc("GET /v1/hold/{id}/events", a.events)
	mux.HandleFunc("GET /v1/audit/verify", a.verify)
	mux.HandleFunc("POST /v1/reload", a.reload)
	mux.HandleFunc("POST /v1/users", a.userAdd)
	mux.HandleFunc("POST /v1/users/{name}/password", a.userPasswd)
	mux.HandleFunc("POST /v1/users/{name}/totp-reset", a.userTOTP)
	registerDebug(mux) // profiles: admin socket only (debug.go)
	return mux
}

func (a *Admin) list(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	all := r.URL.Query().Get("all") != ""
	out := []Summary{}
	err := a.Store.ForEach(func(rec *spool.Record) bool {
		if state != "" && string(rec.State) != state {
			return true
		}
		if state == "" && !all && rec.State.Final() {
			return true
		}
		out = append(out, summarize(rec))
		return true
	})
	if err == nil && a.Shared != nil {
		var recs []*spool.Record
		recs, err = a.Shared.SharedList(r.Context(), state, all)
		for _, rec := range recs {
			out = append(out, summarize(rec))
		}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, out)
}

func summarize(rec *spool.Record) Summary {
	var dec struct{ Rules, Actions []string }
	_ = json.Unmarshal(rec.Decision, &dec) // notices and DSNs have none
	return Summary{ID: rec.ID, State: string(rec.State), Kind: string(rec.Kind), MailFrom: rec.MailFrom,
		Rcpts: len(rec.Rcpts), Pending: len(rec.Pending()), Size: rec.Size, ReceivedAt: rec.ReceivedAt,
		Attempts: rec.Attempts, NextAttempt: rec.NextAttempt, LastError: rec.LastError, Subject: rec.Subject,
		Rules: dec.Rules, Actions: dec.Actions}
}

func (a *Admin) show(w http.ResponseWriter, r *http.Request) {
	rec, err := a.Store.Get(r.PathValue("id"))
	if errors.Is(err, spool.ErrNotFound) && a.Shared != nil {
		rec, err = a.Shared.Message(r.Context(), r.PathValue("id"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, rec)
}

func (a *Admin) retry(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.Queue.Retry(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	a.Log.Info("retry requested by admin", "queue_id", id)
	if a.Runner != nil {
		a.Runner.Wake(id)
	}
	writeJSON(w, map[string]string{"id": id, "result": "retry scheduled"})
}

func (a *Admin) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.Queue.Delete(r.Context(), id, a.actor(r), r.URL.Query().Get("reason")); err != nil {
		a.fail(w, r, err)
		return
	}
	a.Log.Warn("message deleted by admin", "queue_id", id)
	writeJSON(w, map[string]string{"id": id, "result": "deleted"})
}

// actor is who the audit log names for a CLI action. The socket is
// reachable only by who may administer the gateway; the CLI names the OS
// account it runs as.
func (a *Admin) actor(r *http.Request) hold.Actor {
	actor := hold.Actor{Name: "admin-cli", Role: "admin"}
	if u := osUser(r.Header.Get(HeaderOSUser)); u != "" {
		actor.Name = "admin-cli (" + u + ")"
	}
	return actor
}

// decide releases or rejects a held message as the admin (CLI).
func (a *Admin) decide(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var to hold.State
	switch r.PathValue("action") {
	case "release":
		to = hold.StateReleased
	case "reject":
		to = hold.StateRejected
	default:
		http.NotFound(w, r)
		return
	}
	reason := r.URL.Query().Get("reason")
	if _, err := a.Queue.Decide(r.Context(), id, to, a.actor(r), reason, ""); err != nil {
		a.fail(w, r, err)
		return
	}
	a.Log.Info("held message decided by admin", "queue_id", id, "state", to)
	if a.Runner != nil {
		a.Runner.Wake(id)
	}
	writeJSON(w, map[string]string{"id": id, "result": string(to)})
}

// events is a held message's audit history.
func (a *Admin) events(w http.ResponseWriter, r *http.Request) {
	evs, err := a.Queue.Events(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, evs)
}

// verify checks the audit log's hash chain.
func (a *Admin) verify(w http.ResponseWriter, r *http.Request) {
	n, err := a.Queue.Verify(r.Context())
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "events": n, "error": err.Error()})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "events": n})
}

// UserAdmin is what the CLI needs of the console's accounts.
type UserAdmin interface {
	AddUser(name, role, password string) (totpURL string, err error)
	SetPassword(name, password string) error
	ResetTOTP(name string) (totpURL string, err error)
}

type userReq struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

func (a *Admin) readUser(w http.ResponseWriter, r *http.Request) (userReq, bool) {
	var u userReq
	if a.Users == nil {
		a.fail(w, r, errors.New("console accounts are not available"))
		return u, false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&u); err != nil {
		a.fail(w, r, fmt.Errorf("bad request: %w", err))
		return u, false
	}
	return u, true
}

func (a *Admin) userAdd(w http.ResponseWriter, r *http.Request) {
	u, ok := a.readUser(w, r)
	if !ok {
		return
	}
	url, err := a.Users.AddUser(u.Name, u.Role, u.Password)
	if err != nil {
		badRequest(w, err)
		return
	}
	a.Log.Info("console user added", "user", u.Name, "role", u.Role)
	writeJSON(w, map[string]string{"name": u.Name, "totp_url": url})
}

func (a *Admin) userPasswd(w http.ResponseWriter, r *http.Request) {
	u, ok := a.readUser(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if err := a.Users.SetPassword(name, u.Password); err != nil {
		badRequest(w, err)
		return
	}
	a.Log.Info("console password changed", "user", name)
	writeJSON(w, map[string]string{"name": name, "result": "password changed"})
}

func (a *Admin) userTOTP(w http.ResponseWriter, r *http.Request) {
	if a.Users == nil {
		a.fail(w, r, errors.New("console accounts are not available"))
		return
	}
	name := r.PathValue("name")
	url, err := a.Users.ResetTOTP(name)
	if err != nil {
		badRequest(w, err)
		return
	}
	a.Log.Info("console TOTP reset", "user", name)
	writeJSON(w, map[string]string{"name": name, "totp_url": url})
}

func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, spool.ErrNotFound), errors.Is(err, queue.ErrNotFound), errors.Is(err, hold.ErrNotFound):
		code = http.StatusNotFound
		err = fmt.Errorf("no message %s", r.PathValue("id"))
	case errors.Is(err, queue.ErrIllegal):
		code = http.StatusConflict
	default:
		a.Log.Error("admin request", "err", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// badRequest answers a refused admin request (the error is the caller's).
func badRequest(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
