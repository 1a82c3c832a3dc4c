module github.com/sendguard/sendguard

go 1.26
