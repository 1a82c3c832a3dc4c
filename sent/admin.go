package sent

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// FindResult is the admin API's answer to a find.
type FindResult struct {
	Records   []*Record     `json:"records"`
	Retention time.Duration `json:"retention"`
}

// ParseQuery reads a Query from URL parameters: sender, recipient,
// domain, subject, detector, since and until (RFC 3339 or a date
// 2006-01-02) and limit.
func ParseQuery(get func(string) string) (Query, error) {
	q := Query{Sender: get("sender"), Recipient: get("recipient"), Domain: get("domain"),
		Subject: get("subject"), Detector: get("detector")}
	var err error
	if q.Since, err = parseTime(get("since")); err != nil {
		return q, errors.New("since: want RFC 3339 or YYYY-MM-DD")
	}
	if q.Until, err = parseTime(get("until")); err != nil {
		return q, errors.New("until: want RFC 3339 or YYYY-MM-DD")
	}
	if l := get("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 0 {
			return q, errors.New("limit: want a positive number")
		}
	}
	return q, nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// Handler serves GET /v1/sent (find) and GET /v1/sent/{id} on the admin
// socket.
func Handler(s *Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/sent", func(w http.ResponseWriter, r *http.Request) {
		q, err := ParseQuery(r.URL.Query().Get)
		if err != nil {
			jsonError(w, err.Error(), http.StatusBadRequest)
			return
		}
		recs, err := s.Find(r.Context(), q)
		if err != nil {
			jsonError(w, "find failed", http.StatusInternalServerError)
			return
		}
		if recs == nil {
			recs = []*Record{}
		}
		writeJSON(w, FindResult{Records: recs, Retention: s.Retention})
	})
	mux.HandleFunc("GET /v1/sent/{id}", func(w http.ResponseWriter, r *http.Request) {
		rec, in, err := s.Incident(r.Context(), r.PathValue("id"))
		if errors.Is(err, ErrNotFound) {
			jsonError(w, ErrNotFound.Error(), http.StatusNotFound)
			return
		}
		if err != nil {
			jsonError(w, "read failed", http.StatusInternalServerError)
			return
		}
		writeJSON(w, struct {
			Record   *Record   `json:"record"`
			Incident *Incident `json:"incident,omitempty"`
		}{rec, in})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// jsonError answers as the admin API does: {"error": "..."}.
func jsonError(w http.ResponseWriter, msg string, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
