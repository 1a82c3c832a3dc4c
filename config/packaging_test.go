package config

import "testing"

// TestPackagedConfigIsValid keeps the .deb's /etc/sendguard/sendguard.yaml
// loadable as the configuration evolves.
func TestPackagedConfigIsValid(t *testing.T) {
	c, err := Load("../packaging/sendguard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/sendguard" || c.SMTP.Listen != "127.0.0.1:2525" || c.Web.Listen != "127.0.0.1:8025" {
		t.Fatalf("packaged config is not the loopback-only default: %+v", c)
	}
}
