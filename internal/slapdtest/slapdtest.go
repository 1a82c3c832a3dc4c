// Package slapdtest starts a private OpenLDAP server for tests: loopback
// only, its own configuration and data in a temporary directory, loaded
// with testdata/directory/company.ldif (a small company with departments,
// managers, nested groups, defective entries and a referral loop).
package slapdtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The service account and tree of company.ldif.
const (
	BindDN   = "cn=sendguard,ou=services,dc=example,dc=com"
	Password = "bind-secret-123"
	BaseDN   = "dc=example,dc=com"
	GroupDN  = "ou=groups,dc=example,dc=com"
)

// Server is a private OpenLDAP server on a loopback port, loaded with
// testdata/company.ldif.
type Server struct {
	// LDAPSURL is the same server over TLS; CAFile verifies its
	// certificate (for 127.0.0.1), which StartTLS on URL also presents.
	LDAPSURL string
	CAFile   string
	t        testing.TB
	URL      string
	Port     int
	dir      string
	cmd      *exec.Cmd
	done     chan struct{}
}

// Require skips the test when slapd is missing, or fails it under CI.
func Require(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/slapd", "/usr/sbin/slapadd"} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (CI installs slapd in scripts/test.sh)", p)
			}
			t.Skip("slapd not installed (apt-get install slapd ldap-utils)")
		}
	}
	return "/usr/sbin/slapd"
}

// slapdConf is the server's configuration: the AD attributes sendguard
// reads (proxyAddresses, department) are added to inetOrgPerson by an
// auxiliary class, with Active Directory's OIDs.
const slapdConf = `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
attributetype ( 1.2.840.113556.1.2.210 NAME 'proxyAddresses' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.1.1 NAME 'sendguardTestUser' AUXILIARY MAY ( proxyAddresses $ department ) )
pidfile {{DIR}}/slapd.pid
argsfile {{DIR}}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {{DIR}}/ca.pem
TLSCertificateFile {{DIR}}/server.pem
TLSCertificateKeyFile {{DIR}}/server.key
database mdb
maxsize 10485760
suffix "dc=example,dc=com"
rootdn "cn=admin,dc=example,dc=com"
directory {{DIR}}/db
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="cn=sendguard,ou=services,dc=example,dc=com" read by * none
`

// Start runs a loaded server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Require(t)
	// slapd binds ports found free a moment before; another test's socket
	// (a listener, or an outgoing connection's local port) can take one
	// in between, and slapd then exits: try again on fresh ports.
	for attempt := 1; ; attempt++ {
		s := prepare(t)
		err := s.launch(bin)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		if attempt == 3 || !errors.Is(err, errExited) {
			t.Fatal(err)
		}
		t.Logf("%v; again on other ports", err)
	}
}

// prepare makes a server's ports, certificates, configuration and
// database, loaded with the company tree.
func prepare(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	tlsPort := freePort(t)
	s := &Server{t: t, Port: port, dir: dir, URL: fmt.Sprintf("ldap://127.0.0.1:%d", port),
		LDAPSURL: fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort), CAFile: filepath.Join(dir, "ca.pem")}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeCerts(t, dir)
	conf := strings.ReplaceAll(slapdConf, "{{DIR}}", dir)
	if err := os.WriteFile(filepath.Join(dir, "slapd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	_, self, _, _ := runtime.Caller(0)
	ldif, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "testdata", "directory", "company.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	ldif = bytes.ReplaceAll(ldif, []byte("{{PORT}}"), fmt.Appendf(nil, "%d", port))
	add := exec.Command("/usr/sbin/slapadd", "-f", filepath.Join(dir, "slapd.conf"), "-q")
	add.Stdin = bytes.NewReader(ldif)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	return s
}

// errExited: slapd ended before it listened.
var errExited = errors.New("slapd exited")

func (s *Server) start(bin string) {
	s.t.Helper()
	if err := s.launch(bin); err != nil {
		s.t.Fatal(err)
	}
}

// launch starts slapd and waits until it listens.
func (s *Server) launch(bin string) error {
	// -d 0 keeps slapd in the foreground so the test owns and reaps it.
	s.cmd = exec.Command(bin, "-d", "0", "-h", s.URL+"/ "+s.LDAPSURL+"/", "-f", filepath.Join(s.dir, "slapd.conf"))
	var logBuf bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &logBuf, &logBuf
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			s.cmd = nil
			return fmt.Errorf("%w: %s", errExited, logBuf.String())
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("slapd did not listen: %s", logBuf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGCONT)
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts the stopped server again on the same port and data.
func (s *Server) Restart() { s.start(Require(s.t)) }

// Freeze stops the process (SIGSTOP): the kernel still accepts
// connections but nothing answers, as with a hung server.
func (s *Server) Freeze() { s.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() { s.cmd.Process.Signal(syscall.SIGCONT) }

// writeCerts makes a CA and a server certificate for 127.0.0.1.
func writeCerts(t testing.TB, dir string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sendguard test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	for name, b := range map[string]*pem.Block{"ca.pem": {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem": {Type: "CERTIFICATE", Bytes: der}, "server.key": {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
