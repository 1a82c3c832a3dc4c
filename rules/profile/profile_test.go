package profile

import (
	"reflect"
	"strings"
	"testing"
)

func table(t *testing.T, rules ...Rule) *Table {
	t.Helper()
	tb, err := New(rules)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestFor(t *testing.T) {
	tb := table(t,
		Rule{Domain: "partner.co.jp", Profile: Profile{Kind: Link}},
		Rule{Domain: "@Bank.Example.JP.", Profile: Profile{Kind: Plain}},
		Rule{Domain: "old.example", Profile: Profile{Kind: ZipCrypto, RequireTLS: true}},
		Rule{Domain: "sub.partner.co.jp", Profile: Profile{Kind: AESZip}},
		Rule{Domain: "*", Profile: Profile{Kind: AESZip}},
		Rule{Domain: "例え.jp", Profile: Profile{Kind: RefuseAttachments}},
	)
	for _, tc := range []struct {
		dom  string
		want Profile
	}{
		{"partner.co.jp", Profile{Kind: Link}},
		{"PARTNER.co.jp", Profile{Kind: Link}},
		{"osaka.partner.co.jp", Profile{Kind: Link}},                // subdomain inherits
		{"x.sub.partner.co.jp", Profile{Kind: AESZip}},              // nearest parent wins
		{"bank.example.jp", Profile{Kind: Plain, RequireTLS: true}}, // plain implies TLS
		{"old.example", Profile{Kind: ZipCrypto, RequireTLS: true}},
		{"xn--r8jz45g.jp", Profile{Kind: RefuseAttachments}}, // IDN in A-label
		{"例え.jp", Profile{Kind: RefuseAttachments}},
		{"co.jp", Profile{Kind: AESZip}},            // a public suffix is not a partner's parent
		{"notpartner.co.jp", Profile{Kind: AESZip}}, // suffix match is per label
		{"", Profile{Kind: AESZip}},
	} {
		if got := tb.For(tc.dom); got != tc.want {
			t.Errorf("For(%q) = %+v, want %+v", tc.dom, got, tc.want)
		}
	}
	var nilTable *Table
	if got := nilTable.For("partner.co.jp"); got != (Profile{}) || !nilTable.Empty() {
		t.Errorf("nil table: %+v", got)
	}
}

func TestNewErrors(t *testing.T) {
	_, err := New([]Rule{
		{Domain: "a.example", Profile: Profile{Kind: Link}, Source: "partners[0]"},
		{Domain: "A.example", Profile: Profile{Kind: Link}, Source: "partners[1]"}, // same: fine
		{Domain: "a.example", Profile: Profile{Kind: AESZip}, Source: "encrypt.domains"},
		{Domain: "nodot", Profile: Profile{Kind: Link}, Source: "encrypt.domains"},
		{Domain: "p.example", Profile: Profile{Kind: Plain}, Source: "partners[2]"},
		{Domain: "p.example", Profile: Profile{Kind: Plain, RequireTLS: true}, Source: "partners[3]"}, // same after plain ⇒ TLS
	})
	if err == nil {
		t.Fatal("conflicts accepted")
	}
	msg := err.Error()
	for _, want := range []string{"encrypt.domains: a.example has profile aes_zip, but partners[0] gives link", `"nodot": not a domain`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "partners[1]") || strings.Contains(msg, "partners[3]") {
		t.Errorf("identical duplicates reported: %q", msg)
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"aes_zip": AESZip, "encrypt_zip": AESZip, "ZipCrypto": ZipCrypto,
		"link": Link, "plain": Plain, "none": Plain, "refuse_attachments": RefuseAttachments, "": Policy} {
		got, err := ParseKind(in)
		if err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseKind("pgp"); err == nil {
		t.Error("unknown profile accepted")
	}
}

func TestSplit(t *testing.T) {
	tb := table(t,
		Rule{Domain: "linkco.jp", Profile: Profile{Kind: Link}},
		Rule{Domain: "zipco.jp", Profile: Profile{Kind: AESZip}},
		Rule{Domain: "oldco.jp", Profile: Profile{Kind: ZipCrypto}},
		Rule{Domain: "bank.jp", Profile: Profile{Kind: Plain}},
		Rule{Domain: "nofiles.jp", Profile: Profile{Kind: RefuseAttachments}},
		Rule{Domain: "tlsco.jp", Profile: Profile{RequireTLS: true}}, // policy's action, TLS required
	)
	internal := func(d string) bool { return d == "example.com" }
	for _, tc := range []struct {
		name   string
		policy Method
		rcpts  []string
		want   []Group
		same   bool
	}{
		{name: "encrypt, two profiles", policy: Encrypt,
			rcpts: []string{"a@linkco.jp", "b@zipco.jp", "c@linkco.jp"},
			want:  []Group{{Method: Links, Rcpts: []string{"a@linkco.jp", "c@linkco.jp"}}, {Method: EncryptAES, Rcpts: []string{"b@zipco.jp"}}}},
		{name: "internal and unknown keep the policy", policy: Encrypt,
			rcpts: []string{"me@example.com", "x@other.example", "b@oldco.jp"},
			want:  []Group{{Method: Encrypt, Rcpts: []string{"me@example.com", "x@other.example"}}, {Method: EncryptZipCrypto, Rcpts: []string{"b@oldco.jp"}}}},
		{name: "link policy to a plain partner", policy: Links,
			rcpts: []string{"a@bank.jp", "b@mail.bank.jp", "c@other.example"},
			want:  []Group{{Method: None, RequireTLS: true, Rcpts: []string{"a@bank.jp", "b@mail.bank.jp"}}, {Method: Links, Rcpts: []string{"c@other.example"}}}},
		{name: "deliver policy: only refuse_attachments and TLS act", policy: None,
			rcpts: []string{"a@zipco.jp", "b@nofiles.jp", "c@tlsco.jp", "d@bank.jp"},
			want: []Group{{Method: None, Rcpts: []string{"a@zipco.jp"}}, {Method: Links, Rcpts: []string{"b@nofiles.jp"}},
				{Method: None, RequireTLS: true, Rcpts: []string{"c@tlsco.jp", "d@bank.jp"}}}},
		{name: "routed address at an internal relay is external", policy: Encrypt,
			rcpts: []string{"x%linkco.jp@example.com"},
			want:  []Group{{Method: Encrypt, Rcpts: []string{"x%linkco.jp@example.com"}}}, same: true},
		{name: "only unknown domains: as the policy", policy: Links,
			rcpts: []string{"a@x.example", "b@y.example"},
			want:  []Group{{Method: Links, Rcpts: []string{"a@x.example", "b@y.example"}}}, same: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tb.Split(tc.policy, tc.rcpts, internal)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Split = %+v\nwant %+v", got, tc.want)
			}
			n := 0
			for _, g := range got {
				n += len(g.Rcpts)
			}
			if n != len(tc.rcpts) {
				t.Errorf("%d recipients in groups, %d given", n, len(tc.rcpts))
			}
			if AsPolicy(got, tc.policy) != tc.same {
				t.Errorf("AsPolicy = %v", !tc.same)
			}
		})
	}
}
