package main

import (
	"bufio"
	"io"

	"encoding/json"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sendguard/sendguard/gateway"
)

var outboxPage = template.Must(template.New("outbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>sendguard demo outbox</title><link rel="stylesheet" href="/static/style.css"></head><body>
<main>
<h1>Demo outbox</h1>
<p class="lead"><strong>Demo only.</strong> No <code>delivery.next_hop</code> is configured, so mail that sendguard
would deliver is saved here instead of leaving this machine. デモ用の送信箱です（実際には送信されません）。
Notices to senders (confirm links) arrive here too.</p>
<div class="card"><table>
<tr><th>Delivered</th><th>From</th><th>To</th><th>Subject</th></tr>
{{range .}}<tr><td>{{.Delivered.Format "15:04:05"}}</td>
<td>{{if .MailFrom}}{{.MailFrom}}{{else}}sendguard notice{{end}}</td>
<td>{{range .Rcpts}}{{.}}<br>{{end}}</td><td><a href="/outbox/{{.Name}}">{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</a></td></tr>
{{else}}<tr><td colspan="4">Nothing delivered yet.</td></tr>{{end}}
</table></div></main></body></html>`))

type outboxItem struct {
	gateway.OutboxEnvelope
	Name    string
	Subject string
}

// outboxSubject reads a saved message's decoded Subject.
func outboxSubject(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h, err := textproto.ReadHeader(bufio.NewReader(io.LimitReader(f, 256<<10)))
	if err != nil {
		return ""
	}
	mh := mail.Header{Header: message.Header{Header: h}}
	s, err := mh.Subject()
	if err != nil {
		return h.Get("Subject")
	}
	return s
}

// registerOutbox serves the demo outbox: a list, and each message as plain
// text (mail HTML is never rendered).
func registerOutbox(mux *http.ServeMux, dir string) {
	mux.HandleFunc("GET /outbox", func(w http.ResponseWriter, r *http.Request) {
		entries, _ := os.ReadDir(dir)
		var items []outboxItem
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".json")
			if !ok {
				continue
			}
			var it outboxItem
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil || json.Unmarshal(data, &it.OutboxEnvelope) != nil {
				continue
			}
			it.Name = name + ".eml"
			it.Subject = outboxSubject(filepath.Join(dir, it.Name))
			items = append(items, it)
		}
		slices.Reverse(items)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		outboxPage.Execute(w, items)
	})
	mux.HandleFunc("GET /outbox/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if strings.ContainsAny(name, "/\\") || !strings.HasSuffix(name, ".eml") || strings.HasPrefix(name, ".") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.ServeFile(w, r, filepath.Join(dir, name))
	})
}
