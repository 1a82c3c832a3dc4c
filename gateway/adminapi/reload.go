package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sendguard/sendguard/hold"
)

// ReloadReport is the answer to a reload (sendguard reload, SIGHUP).
type ReloadReport struct {
	// OK is false when the new configuration was refused: the running
	// one stays in force and Errors says why.
	OK     bool            `json:"ok"`
	Errors []ReloadProblem `json:"errors,omitempty"`
	// Policy names the policy now in force and Rules counts its rules.
	Policy string `json:"policy,omitempty"`
	Rules  int    `json:"rules,omitempty"`
	// Changed are the live keys whose values changed (the policy file,
	// dictionaries and certificates are re-read whether or not they did).
	Changed []string `json:"changed,omitempty"`
	// RestartNeeded are changed keys that only take effect after a
	// restart; until then the running values stay in force.
	RestartNeeded []string `json:"restart_needed,omitempty"`
}

// ReloadProblem is one reason a configuration was refused.
type ReloadProblem struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Key  string `json:"key,omitempty"`
	Msg  string `json:"msg"`
}

func (p ReloadProblem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ReloadFunc reloads the configuration on behalf of actor.
type ReloadFunc func(ctx context.Context, actor hold.Actor) ReloadReport

// reload is POST /v1/reload: the report, refused or not, is the answer;
// the CLI turns a refusal into its exit status.
func (a *Admin) reload(w http.ResponseWriter, r *http.Request) {
	if a.Reload == nil {
		a.fail(w, r, errors.New("reload is not available"))
		return
	}
	writeJSON(w, a.Reload(r.Context(), a.actor(r)))
}
