//go:build !amd64 || purego

package aeszip

func asmImpls() []pbkdf2Impl { return nil }
