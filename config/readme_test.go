package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryKey keeps the README's configuration reference
// from drifting: every YAML key of Config must appear there as `key`.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeOf(Config{}), "") {
		if !strings.Contains(string(readme), "`"+key+"`") && !strings.Contains(string(readme), "`"+key+".") {
			t.Errorf("README does not document %s", key)
		}
	}
}

func yamlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		ft := f.Type
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() && ft.Name() != "TLS" {
			out = append(out, yamlKeys(ft, key+".")...)
			continue
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			out = append(out, key)
			continue
		}
		out = append(out, key)
	}
	return out
}

func TestParseReportsEveryProblemWithLines(t *testing.T) {
	_, err := Parse("t.yaml", []byte(`data_dir: ./d
smtp:
  listen: 127.0.0.1:2525
  trusted_networks: [10.0.0.0/8, 0.0.0.0/0, not-a-net]
  bogus: 1
`))
	if err == nil {
		t.Fatal("accepted an unknown key")
	}
	if !strings.Contains(err.Error(), "line 5") || !strings.Contains(err.Error(), "smtp.bogus") {
		t.Fatalf("unknown key not located: %v", err)
	}
	_, err = Parse("t.yaml", []byte(`smtp:
  trusted_networks: [10.0.0.0/8, 0.0.0.0/0, not-a-net]
  users:
    - name: mta
      password_hash: plain
delivery:
  next_hop: "nohost"
  tls: sometimes
web:
  base_url: ftp://x
notify:
  language: fr
`))
	if err == nil {
		t.Fatal("accepted an invalid config")
	}
	for _, want := range []string{
		"line 2: smtp.trusted_networks[1]", "open relay", "smtp.trusted_networks[2]", "not-a-net",
		"smtp.users: SMTP AUTH needs smtp.tls", "password_hash: must be a bcrypt hash",
		"line 7: delivery.next_hop", "line 8: delivery.tls", "line 10: web.base_url", "line 12: notify.language",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestEmbeddedDefaultIsValid(t *testing.T) {
	c, err := Parse("default", DefaultYAML)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Listen != "127.0.0.1:2525" || c.Web.Listen != "127.0.0.1:8025" || c.DataDir != "./data" ||
		len(c.InternalDomains) != 1 || c.InternalDomains[0] != "example.com" || c.Delivery.NextHop != "" {
		t.Fatalf("embedded default differs from design.md: %+v", c)
	}
}

func TestTypeErrorsNameTheKey(t *testing.T) {
	_, err := Parse("c.yaml", []byte("data_dir: /tmp/x\nsmtp:\n  max_recipients: lots\n  trusted_networks:\n    - 127.0.0.0/8\n    - [1]\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"line 3: smtp.max_recipients: cannot unmarshal", "line 6: smtp.trusted_networks[1]: cannot unmarshal"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
