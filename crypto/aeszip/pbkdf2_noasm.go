//go:build !amd64 || purego

package aeszip

func hasSHANI() bool { return false }

func pbkdf2SHA1NI(password string, salt []byte, iter, keyLen int) ([]byte, error) {
	panic("aeszip: no SHA-NI derivation on this platform")
}
