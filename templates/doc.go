// Package templates holds the embedded notice-mail and link-page templates,
// their Japanese and English message catalogs, the static CSS and script,
// and the Summary both notices and pages show of a held message.
//
// Invariants:
//   - Everything is embedded: pages load no external asset.
//   - A Summary never carries unmasked finding values, only the report's
//     masked samples.
//   - Every key a template asks for exists in every catalog (tested).
package templates

import "embed"

// FS holds mail/, pages/, static/ and the catalogs i18n/*.json.
//
//go:embed mail pages static i18n/*.json
var FS embed.FS

// StyleSheet is a page set's stylesheet: the shared base (static/base.css)
// followed by the set's own rules, so every sendguard page looks alike.
func StyleSheet(own []byte) ([]byte, error) {
	base, err := FS.ReadFile("static/base.css")
	if err != nil {
		return nil, err
	}
	return append(append(base[:len(base):len(base)], '\n'), own...), nil
}
