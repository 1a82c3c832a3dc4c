package profile

import "strings"

// Method is how one group's copy is treated.
type Method string

// Methods.
const (
	// None delivers attachments as they are.
	None Method = ""
	// Encrypt zips them with the configured default (encrypt.zip_crypto).
	Encrypt Method = "encrypt"
	// EncryptAES zips them with AES-256 whatever the default.
	EncryptAES Method = "encrypt_aes"
	// EncryptZipCrypto zips them with ZipCrypto whatever the default.
	EncryptZipCrypto Method = "encrypt_zipcrypto"
	// Links replaces them with download links.
	Links Method = "link"
)

// Group is the recipients that get one treatment.
type Group struct {
	Method     Method
	RequireTLS bool
	Rcpts      []string
}

// Split groups envelope recipients by treatment. policy is what the
// policy decided for the whole mail (None, Encrypt or Links); internal
// says whether a domain is the company's own (internal recipients always
// get the policy's treatment, without a TLS requirement).
//
// For an external recipient whose domain has a profile:
//   - the policy protects (Encrypt or Links): aes_zip → EncryptAES,
//     zipcrypto → EncryptZipCrypto, link and refuse_attachments → Links,
//     plain → None (over required TLS);
//   - the policy does not protect: refuse_attachments → Links, every
//     other profile → None.
func (t *Table) Split(policy Method, rcpts []string, internal func(domain string) bool) []Group {
	var out []Group
	type key struct {
		m   Method
		tls bool
	}
	index := map[key]int{}
	for _, r := range rcpts {
		g := t.treat(policy, r, internal)
		k := key{g.Method, g.RequireTLS}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, g)
		}
		out[i].Rcpts = append(out[i].Rcpts, r)
	}
	return out
}

func (t *Table) treat(policy Method, rcpt string, internal func(string) bool) Group {
	dom := ""
	if at := strings.LastIndexByte(rcpt, '@'); at >= 0 {
		dom = strings.ToLower(rcpt[at+1:])
	}
	// A routed address (user%host@relay, '!' paths) goes wherever the
	// relay sends it: it is external even at an internal relay domain.
	routed := strings.ContainsAny(rcpt[:max(strings.LastIndexByte(rcpt, '@'), 0)], "@%!")
	if dom != "" && !routed && internal != nil && internal(dom) {
		return Group{Method: policy}
	}
	p := t.For(dom)
	g := Group{RequireTLS: p.RequireTLS}
	switch {
	case p.Kind == Policy:
		g.Method = policy
	case policy == None:
		if p.Kind == RefuseAttachments {
			g.Method = Links
		}
	default:
		switch p.Kind {
		case AESZip:
			g.Method = EncryptAES
		case ZipCrypto:
			g.Method = EncryptZipCrypto
		case Link, RefuseAttachments:
			g.Method = Links
		case Plain:
			g.Method = None
		}
	}
	return g
}

// AsPolicy reports whether groups are exactly what the policy alone would
// do: one group with the policy's treatment and no TLS requirement.
func AsPolicy(groups []Group, policy Method) bool {
	return len(groups) <= 1 && (len(groups) == 0 || (groups[0].Method == policy && !groups[0].RequireTLS))
}
