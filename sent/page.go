package sent

import (
	"errors"
	"html/template"
	"net"
	"net/http"
	"strings"

	"github.com/sendguard/sendguard/templates"
)

// pageCSP allows nothing but the page's own form and the shared style.
const pageCSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

var confirmPage = template.Must(template.New("p").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title><link rel="stylesheet" href="{{.Static}}static/style.css"></head>
<body><main class="card">
<h1>{{.Title}}</h1>
{{if .Done}}<p id="done">{{.Done}}</p>
{{else if .Invalid}}<p id="invalid">{{.Invalid}}</p>
{{else}}<p>{{.Lead}}</p>
<form method="post" action=""><button type="submit" id="confirm">{{.Button}}</button></form>
{{end}}</main></body></html>
`))

type pageView struct {
	Lang, Title, Static, Lead, Button, Done, Invalid string
}

// ConfirmPrefix is the path of recipients' confirm links under the web
// base path; ReportPrefix that of the sender's report links.
const (
	ConfirmPrefix = "del/"
	ReportPrefix  = "rep/"
)

// ConfirmHandler serves a recipient's confirm page at base path + "del/TOKEN"
// and the sender's report page at base path + "rep/TOKEN":
// GET shows the message's subject and a button (a mail scanner's fetch
// uses nothing), POST confirms once. An unknown, used or expired token
// gets one and the same page.
func (k *Kit) ConfirmHandler(basePath string) http.Handler {
	mux := http.NewServeMux()
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", pageCSP)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		lang := templates.Negotiate(r.Header.Get("Accept-Language"))
		c := k.Catalog
		report := strings.HasPrefix(r.URL.Path, basePath+ReportPrefix)
		kp := "del.page."
		peek, use := k.Store.Peek, func(tok, ip string) error { _, err := k.Store.Confirm(tok, ip, k.now(), k.Audit); return err }
		if report {
			kp = "rep.page."
			peek, use = k.Store.PeekReport, func(tok, ip string) error { _, err := k.Store.Report(tok, ip, k.now(), k.Audit); return err }
		}
		v := pageView{Lang: lang, Title: c.T(lang, kp+"title"), Static: basePath, Button: c.T(lang, kp+"button")}
		tok := r.PathValue("token")
		status := http.StatusOK
		switch r.Method {
		case http.MethodGet:
			p, err := peek(tok, k.now())
			if err != nil {
				v.Invalid, status = c.T(lang, kp+"invalid"), http.StatusNotFound
				break
			}
			v.Lead = c.T(lang, kp+"lead", p.Rcpt, templates.OneLine(p.Subject))
		case http.MethodPost:
			if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
			err := use(tok, clientIP(r))
			switch {
			case errors.Is(err, ErrTokenInvalid) || errors.Is(err, ErrNotFound):
				v.Invalid, status = c.T(lang, kp+"invalid"), http.StatusNotFound
			case err != nil:
				if k.Log != nil {
					k.Log.Error("record deletion confirmation", "err", err)
				}
				http.Error(w, "temporary error", http.StatusServiceUnavailable)
				return
			default:
				v.Done = c.T(lang, kp+"done")
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		confirmPage.Execute(w, v)
	}
	mux.HandleFunc(basePath+ConfirmPrefix+"{token}", h)
	mux.HandleFunc(basePath+ReportPrefix+"{token}", h)
	return mux
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return strings.TrimSpace(r.RemoteAddr)
	}
	return host
}
