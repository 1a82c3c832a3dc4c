package policy

import _ "embed"

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default policy as written.
func DefaultYAML() []byte {
	return append([]byte(nil), defaultYAML...)
}

// Default compiles the embedded default policy.
func Default() (*Policy, error) {
	return Parse("default.yaml", defaultYAML)
}
