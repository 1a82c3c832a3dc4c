package console

import (
	"net/http"
	"slices"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

type policyView struct {
	Rules   []policy.RuleInfo
	Notes   []string
	CanTest bool
	Test    *testView
	MaxMB   int64
}

// testView is the outcome of testing an uploaded message: the verdict and
// findings with masked samples only.
type testView struct {
	Actions  []string
	Rules    []string
	Reasons  []string
	Findings []rules.Finding
	Rcpts    rules.Recipients
	Errors   []string
	Subject  string
}

func (h *Handler) policyPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.showPolicy(w, r, rc, http.StatusOK, nil, "")
}

func (h *Handler) showPolicy(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, tv *testView, errKey string) {
	d := h.newPage(r, rc, "policy.title", "policy")
	d.Error = errKey
	sp := h.shown.Load()
	notes := sp.notes
	if h.live != nil {
		notes = append(slices.Clip(notes), h.live()...)
	}
	d.D = policyView{Rules: sp.rules, Notes: notes, CanTest: h.test != nil && roleRank(rc.user.Role) >= roleRank(RoleReviewer), Test: tv, MaxMB: h.maxUp >> 20}
	h.render(w, status, "policy", d)
}

// policyTest runs the injected analysis on an uploaded .eml. Nothing is
// stored or sent; raw detector values are dropped before rendering.
func (h *Handler) policyTest(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if h.test == nil {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	f, _, err := r.FormFile("eml")
	if err != nil {
		h.showPolicy(w, r, rc, http.StatusBadRequest, nil, "policy.no_file")
		return
	}
	defer f.Close()
	res, err := h.test(r.Context(), f)
	if err != nil || res == nil || res.Report == nil {
		h.log.Warn("policy test", "err", err)
		h.showPolicy(w, r, rc, http.StatusUnprocessableEntity, nil, "policy.test_failed")
		return
	}
	tv := &testView{Actions: res.Decision.Actions, Rules: res.Decision.Rules, Rcpts: res.Report.Recipients,
		Errors: res.Report.Errors, Subject: res.Report.Subject}
	lang := h.lang(r, rc)
	for _, re := range res.Decision.Reasons {
		tv.Reasons = append(tv.Reasons, re.Text(lang))
	}
	for _, fd := range res.Report.Findings {
		fd.Values = nil
		tv.Findings = append(tv.Findings, fd)
	}
	h.showPolicy(w, r, rc, http.StatusOK, tv, "")
}
