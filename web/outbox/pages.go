package outbox

// pageTemplates are the list and message pages; they use the shared
// stylesheet of the sender pages (/static/style.css) and no script.
const pageTemplates = `
{{define "head"}}<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T "title"}}</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/style.css"></head><body>
<header class="top"><span class="brand">sendguard</span>
<nav class="langs">{{range .Langs}}{{if .Current}}<span lang="{{.Code}}">{{.Label}}</span>{{else}}<a href="{{.URL}}" lang="{{.Code}}" hreflang="{{.Code}}">{{.Label}}</a>{{end}} {{end}}</nav></header>
<main>
<p class="alert" id="demo-label">{{.T "demo"}}</p>
{{end}}

{{define "foot"}}</main></body></html>{{end}}

{{define "list"}}{{template "head" .}}
<h1>{{.T "title"}}</h1>
<p class="lead">{{.T "lead"}}</p>
<section class="card">
<ul class="outbox" id="outbox-list">
{{- range .Items}}
<li class="ob-item"><a class="ob-subject" href="/outbox/{{.Name}}?lang={{$.Lang}}">{{if .Subject}}{{.Subject}}{{else}}{{$.T "no_subject"}}{{end}}</a>
<div class="count"><span class="ob-time">{{.Delivered}}</span> · {{if .From}}<span class="ob-from">{{.From}}</span>{{else}}<span class="badge b-note">{{$.T "notice"}}</span>{{end}} → <span class="ob-to">{{range $i, $r := .Rcpts}}{{if $i}}, {{end}}{{$r}}{{end}}</span></div></li>
{{- else}}
<li id="outbox-empty">{{.T "empty"}}</li>
{{- end}}
</ul>
</section>
{{template "foot" .}}{{end}}

{{define "message"}}{{template "head" .}}
<p><a href="/outbox?lang={{.Lang}}" id="back">← {{.T "back"}}</a></p>
{{with .M}}
<h1 id="mail-subject">{{if .Subject}}{{.Subject}}{{else}}{{$.T "no_subject"}}{{end}}</h1>
<dl class="meta" id="mail-headers">
<dt>{{$.T "from"}}</dt><dd>{{range .From}}{{.}} {{end}}</dd>
<dt>{{$.T "to"}}</dt><dd>{{range $i, $a := .To}}{{if $i}}, {{end}}{{$a}}{{end}}</dd>
{{with .Cc}}<dt>Cc</dt><dd>{{range $i, $a := .}}{{if $i}}, {{end}}{{$a}}{{end}}</dd>{{end}}
{{with .DateText}}<dt>{{$.T "date"}}</dt><dd id="mail-date">{{.}}</dd>{{end}}
</dl>
{{with .Attachments}}
<section class="card" aria-labelledby="att-h"><h2 id="att-h">{{$.T "attachments" (len .)}}</h2>
<ul id="mail-attachments">{{range .}}<li><strong>{{if .Name}}{{.Name}}{{else}}{{$.T "unnamed"}}{{end}}</strong> <span class="count">{{.Type}} · {{.Size}}</span></li>{{end}}</ul>
</section>
{{end}}
<section class="card">
{{if .HTMLOnly}}<p class="hint">{{$.T "html_only"}}</p>{{end}}
<pre class="mailbody" id="mail-body">{{range .Body}}{{if .URL}}<a href="{{.URL}}" rel="noopener noreferrer">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre>
</section>
{{end}}
<p class="hint"><a href="/outbox/{{.Name}}?format=raw" id="raw">{{.T "raw"}}</a></p>
{{template "foot" .}}{{end}}
`
