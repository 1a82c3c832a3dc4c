//go:build !purego

package aeszip

import "golang.org/x/sys/cpu"

// asmImpls are pbkdf2SHA1NI with each assembly kernel the CPU runs.
func asmImpls() []pbkdf2Impl {
	if !hasSHANI() {
		return nil
	}
	with := func(k func(*niState, uint64)) func(string, []byte, int, int) ([]byte, error) {
		return func(pw string, salt []byte, iter, keyLen int) ([]byte, error) {
			saved := shaniKernel
			defer func() { shaniKernel = saved }()
			shaniKernel = k
			return pbkdf2SHA1NI(pw, salt, iter, keyLen)
		}
	}
	impls := []pbkdf2Impl{{"shani", with(pbkdf2SHANI)}}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW {
		impls = append(impls, pbkdf2Impl{"shani512", with(pbkdf2SHANI512)})
	}
	return impls
}
