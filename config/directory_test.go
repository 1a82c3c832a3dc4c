package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDirectoryConfig(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "ldap.pass")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	c, err := Parse("d.yaml", []byte(`directory:
  ldap:
    url: ldaps://dc1.example.com
    bind_dn: cn=sendguard,dc=example,dc=com
    password_file: `+pw+`
    base_dn: dc=example,dc=com
    attributes: {department: departmentNumber}
  wait: 100ms
  approvers: [manager, group]
  approver_group: cn=approvers,dc=example,dc=com
`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Directory.Enabled() || c.Directory.Wait != 100*time.Millisecond || c.Directory.LDAP.Attributes.Department != "departmentNumber" {
		t.Errorf("%+v", c.Directory)
	}
	if p, err := c.Directory.LDAP.ReadPassword(); err != nil || p != "s3cret" {
		t.Errorf("password %q %v", p, err)
	}

	_, err = Parse("d.yaml", []byte(`directory:
  ldap:
    url: ldap://dc1.example.com
    bind_dn: cn=sendguard,dc=example,dc=com
    password_file: /nonexistent/ldap.pass
    nested_groups: deep
    attributes: {mgr: x}
`))
	if err == nil || !strings.Contains(err.Error(), "directory.ldap.attributes.mgr") {
		t.Fatalf("unknown attribute key: %v", err)
	}
	_, err = Parse("d.yaml", []byte(`directory:
  ldap:
    url: ldap://dc1.example.com
    bind_dn: cn=sendguard,dc=example,dc=com
    password_file: /nonexistent/ldap.pass
    nested_groups: deep
  wait: 10s
  approvers: [boss, group]
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"line 3: directory.ldap.url: the bind password would cross the network in clear",
		"directory.ldap.base_dn: must not be empty", "line 5: directory.ldap.password_file: cannot read",
		"line 6: directory.ldap.nested_groups", "line 7: directory.wait", "directory.approvers[0]",
		"directory.approver_group"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
