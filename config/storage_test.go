package config

import (
	"strings"
	"testing"
)

func TestStorage(t *testing.T) {
	for _, c := range []struct {
		yaml, want string // want: "" valid, else a key in the error
	}{
		{"", ""},
		{"storage: {driver: bbolt}", ""},
		{"storage: {driver: postgres, dsn: 'postgres://sendguard@db.internal:5432/sendguard?sslmode=verify-full', node: mx1}", ""},
		{"storage: {driver: postgres, dsn: 'host=db user=sendguard dbname=sendguard'}", ""},
		{"storage: {driver: postgres}", "storage.dsn"},
		{"storage: {driver: postgres, dsn: 'postgres://sendguard:secret@db/sendguard'}", "storage.dsn"},
		{"storage: {driver: postgres, dsn: 'postgres://sendguard@db/sendguard?password=secret'}", "storage.dsn"},
		{"storage: {driver: postgres, dsn: 'host=db password=secret'}", "storage.dsn"},
		{"storage: {driver: postgres, dsn: 'postgres://db/s', password_file: /nonexistent/pw}", "storage.password_file"},
		{"storage: {driver: mysql}", "storage.driver"},
		{"storage: {dsn: 'postgres://db/s'}", "storage.driver"},
		{"storage: {driver: postgres, dsn: 'postgres://db/s', node: 'two words'}", "storage.node"},
		{"storage: {sync: file}", ""},
		{"storage: {sync: group}", ""},
		{"storage: {sync: always}", "storage.sync"},
	} {
		_, err := Parse("t.yaml", []byte(c.yaml+"\n"))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.yaml, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: want an error on %s, got %v", c.yaml, c.want, err)
		case err != nil && strings.Contains(err.Error(), "secret"):
			t.Errorf("%s: error repeats the password: %v", c.yaml, err)
		}
	}
}
