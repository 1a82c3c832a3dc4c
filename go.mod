module github.com/sendguard/sendguard

go 1.26.0

require (
	github.com/dslipak/pdf v0.0.2
	github.com/emersion/go-message v0.18.2
	github.com/gabriel-vasile/mimetype v1.4.16
	github.com/richardlehane/mscfb v1.0.9
	golang.org/x/net v0.62.0
	golang.org/x/text v0.43.0
)

require github.com/richardlehane/msoleps v1.0.6 // indirect
