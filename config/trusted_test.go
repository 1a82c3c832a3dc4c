package config

import (
	"strings"
	"testing"
)

func TestTrustedNetworksSplitOpenRelayRefused(t *testing.T) {
	for _, tc := range []struct {
		name, nets string
		want       []string
	}{
		{"IPv4 halves", "[0.0.0.0/1, 128.0.0.0/1]",
			[]string{"smtp.trusted_networks[0]", "smtp.trusted_networks[1]", "wider than /8", "smtp.trusted_min_prefix_v4", "50%"}},
		{"IPv6 halves", "['::/1', '8000::/1']",
			[]string{"smtp.trusted_networks[0]", "smtp.trusted_networks[1]", "wider than /32", "smtp.trusted_min_prefix_v6"}},
		{"IPv4-mapped halves", "['::ffff:0.0.0.0/97']", []string{"wider than /8"}},
		{"IPv4-mapped everything", "['::ffff:0.0.0.0/96']", []string{"trusts every address"}},
		{"many /8s", "[1.0.0.0/8, 2.0.0.0/8, 3.0.0.0/8, 4.0.0.0/8, 5.0.0.0/8, 6.0.0.0/8]",
			[]string{"smtp.trusted_networks: together", "2.344% of the IPv4 address space", "smtp.trusted_max_share"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("smtp:\n  trusted_networks: "+tc.nets+"\n"))
			if err == nil {
				t.Fatal("accepted an open relay in pieces")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestTrustedNetworksUnionCountedOnce(t *testing.T) {
	// Nested and repeated prefixes are counted once: four /8s with their
	// subnets are exactly the default maximum share (1/64).
	ok := "[10.0.0.0/8, 10.1.0.0/16, 10.0.0.0/8, 127.0.0.0/8, 11.0.0.0/8, 12.0.0.0/8, 192.168.0.0/16, '::1', 'fd00::/8']"
	if _, err := Parse("t.yaml", []byte("smtp:\n  trusted_networks: "+ok+"\n  trusted_min_prefix_v6: 8\n")); err == nil {
		t.Fatal("192.168.0.0/16 on top of four /8s exceeds 1/64 but was accepted")
	}
	ok = "[10.0.0.0/8, 10.1.0.0/16, 10.0.0.0/8, 127.0.0.0/8, 11.0.0.0/8, 12.0.0.0/8, '::1', '2001:db8::/32']"
	if _, err := Parse("t.yaml", []byte("smtp:\n  trusted_networks: "+ok+"\n")); err != nil {
		t.Fatal(err)
	}
	// The limits are the admin's to set, within bounds.
	if _, err := Parse("t.yaml", []byte("smtp:\n  trusted_networks: [0.0.0.0/1]\n  trusted_min_prefix_v4: 1\n  trusted_max_share: 0.6\n")); err != nil {
		t.Fatalf("explicitly relaxed limits refused: %v", err)
	}
	if p, err := ParsePrefix("::ffff:192.0.2.1"); err != nil || p.String() != "192.0.2.1/32" {
		t.Fatalf("mapped address: %v %v", p, err)
	}
	_, err := Parse("t.yaml", []byte("smtp:\n  trusted_max_share: 1\n  trusted_min_prefix_v4: 40\n"))
	if err == nil || !strings.Contains(err.Error(), "smtp.trusted_max_share") || !strings.Contains(err.Error(), "smtp.trusted_min_prefix_v4") {
		t.Fatalf("bad limits accepted: %v", err)
	}
}

func TestHygieneKeysValidated(t *testing.T) {
	_, err := Parse("t.yaml", []byte(`smtp:
  untrusted:
    max_connections: 0
    auth_timeout: 10ms
    max_commands: 2
  auth_backoff:
    base: 2s
    max: 1s
    bogus: 1
web:
  read_timeout: 0s
  max_connections: 4
  max_connections_per_ip: 8
`))
	if err == nil || !strings.Contains(err.Error(), "smtp.auth_backoff.bogus") {
		t.Fatalf("unknown nested key not named: %v", err)
	}
	_, err = Parse("t.yaml", []byte(`smtp:
  untrusted:
    max_connections: 0
    auth_timeout: 10ms
    max_commands: 2
  auth_backoff:
    base: 2s
    max: 1s
web:
  read_timeout: 0s
  max_connections: 4
  max_connections_per_ip: 8
`))
	for _, w := range []string{"smtp.untrusted.max_connections", "smtp.untrusted.auth_timeout", "smtp.untrusted.max_commands",
		"smtp.auth_backoff.max", "web.read_timeout", "web.max_connections_per_ip"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %s: %v", w, err)
		}
	}
}
