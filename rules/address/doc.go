// Package address is sendguard's one parser of envelope mailbox addresses.
// The SMTP session (MAIL/RCPT), the recipient analysis and outbound routing
// all parse with it, so that the domain the analysis classifies is exactly
// the domain delivery routes to.
//
// Invariants:
//   - The routing domain is the text after the last '@' that is not inside a
//     quoted local part; Address.ASCIIDomain is its one canonical form
//     (IDNA A-labels, lower case, no trailing dot), which both the analysis
//     and MX routing use.
//   - Address.String is the wire form relayed to the next hop: the local
//     part quoted whenever it is not a dot-atom, so a quoted local part stays
//     quoted. Parse(a.String()) gives a back.
//   - Forms that let a next hop route somewhere else than the domain after
//     the last '@' — an '@' inside the local part (quoted or not), '%' or '!'
//     routing, source routes — are reported in Address.Routing, never
//     silently accepted as ordinary addresses.
//   - Nothing panics on any input; errors wrap ErrSyntax or ErrBadDomain.
//
// The package lives under rules because rules may import nothing of ours
// outside rules; the gateway imports it from here.
package address
