// Package dkimtest verifies DKIM signatures in tests with two independent
// verifiers: go-msgauth and Debian's python3-dkim (dkimpy), each given the
// test's key records instead of DNS.
package dkimtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// Records maps "selector._domainkey.domain" to a TXT record value.
type Records map[string]string

func (r Records) lookup(name string) ([]string, error) {
	if v, ok := r[strings.TrimSuffix(strings.ToLower(name), ".")]; ok {
		return []string{v}, nil
	}
	return nil, fmt.Errorf("no TXT record for %s", name)
}

// GoVerify checks every DKIM-Signature of msg with go-msgauth and returns
// the signing domains of those that verify; it fails the test on any
// signature that does not.
func GoVerify(t testing.TB, msg []byte, recs Records) []string {
	t.Helper()
	vs, err := msgauth.VerifyWithOptions(bytes.NewReader(msg), &msgauth.VerifyOptions{LookupTXT: recs.lookup})
	if err != nil {
		t.Fatalf("go-msgauth verify: %v", err)
	}
	var doms []string
	for _, v := range vs {
		if v.Err != nil {
			t.Fatalf("go-msgauth: signature of %s does not verify: %v", v.Domain, v.Err)
		}
		doms = append(doms, v.Domain)
	}
	return doms
}

// pyScript verifies each signature in turn with dkimpy, resolving keys
// from the JSON map in argv[1].
const pyScript = `
import sys, json, dkim
recs = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    v = recs.get(n.rstrip('.').lower())
    return v.encode() if v is not None else None
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
n = sum(1 for (k, _) in d.headers if k.lower() == b'dkim-signature')
if n == 0:
    print("no signature"); sys.exit(2)
for i in range(n):
    ok = d.verify(idx=i, dnsfunc=dnsfunc)
    print("signature %d: %s" % (i, "pass" if ok else "FAIL"))
    if not ok:
        sys.exit(1)
`

// python finds an interpreter with Debian's dkim module.
func python() string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import dkim, nacl").Run() == nil {
			return p
		}
	}
	return ""
}

// Require skips (or, under CI, fails) when python3-dkim is missing.
func Require(t testing.TB) string {
	t.Helper()
	py := python()
	if py == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("python3-dkim is not installed (CI installs it in .ci/run)")
		}
		t.Skip("python3-dkim not installed (apt-get install python3-dkim)")
	}
	return py
}

// PyVerify checks every DKIM-Signature of msg with dkimpy and returns
// the number that verified.
func PyVerify(t testing.TB, msg []byte, recs Records) int {
	t.Helper()
	py := Require(t)
	js, _ := json.Marshal(recs)
	cmd := exec.Command(py, "-c", pyScript, string(js))
	cmd.Stdin = bytes.NewReader(msg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3-dkim: %v\n%s", err, out)
	}
	return strings.Count(string(out), ": pass")
}
