//go:build !purego

package aeszip

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

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

// TestPBKDF2KernelSelected checks that the derivation runs in assembly
// where the CPU allows, with the AVX-512 schedule where it has that.
func TestPBKDF2KernelSelected(t *testing.T) {
	if !hasSHANI() {
		t.Skip("no SHA-NI")
	}
	if !useSHANI {
		t.Fatal("SHA-NI present but the Go derivation is selected")
	}
	want := "pbkdf2SHANI"
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW {
		want = "pbkdf2SHANI512"
	}
	if got := runtime.FuncForPC(reflect.ValueOf(shaniKernel).Pointer()).Name(); !strings.HasSuffix(got, "."+want) {
		t.Fatalf("kernel %s, want %s", got, want)
	}
}

// TestPBKDF2AsmGenerated checks that pbkdf2_amd64.s is what its generator
// writes.
func TestPBKDF2AsmGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out := filepath.Join(t.TempDir(), "gen.s")
	if msg, err := exec.Command(gocmd, "run", "pbkdf2_amd64_gen.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("pbkdf2_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("pbkdf2_amd64.s differs from the generator's output: run go generate ./crypto/aeszip")
	}
}
