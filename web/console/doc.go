// Package console serves the security team's console under BASE/console/:
// sign-in, the held queue and message view with release and reject, the
// audit log with export and chain verification, a dashboard of trends (and
// shadow vs live rules from the stored reports), the active policy with a
// "test a message" form, a replay of a candidate policy over the stored
// reports and each rule's hold outcomes per week (replay.go, outcomes.go),
// in Japanese and English. Plots are server-rendered SVG.
//
// Invariants:
//   - Every page but sign-in and the static assets needs a session. Session
//     IDs are 256 random bits; only their SHA-256 is stored (bucket
//     console_sessions), so a copy of the DB does not yield a live cookie.
//     A session dies after 30 minutes idle or 12 hours in all. Each sign-in
//     step (form, password, second factor) issues a fresh ID and deletes
//     the previous one, so a cookie planted before sign-in never becomes
//     signed in.
//   - A state change is a POST carrying the session's CSRF token and not
//     sent cross-site (Origin, Sec-Fetch-Site); anything else is 403 and
//     changes nothing. GET never changes held messages or accounts; it may
//     append audit events (downloads, exports).
//   - Roles: viewer reads; reviewer also releases and rejects; admin also
//     downloads attachments and verifies the audit chain. The role is read
//     from the account on every request, so a demotion takes effect at once;
//     an OpenID Connect session (oidc.go) has no local account and keeps
//     the role its groups gave at sign-in.
//   - Every sign-in attempt, success or failure, and every decision is an
//     audit event with the actor's name, role, IP and user agent.
//   - Mail content is untrusted: it is shown escaped, as text. A mail's
//     HTML part is only ever shown sanitised (bluemonday: no script,
//     style, form, frame or non-http(s) link) inside a sandboxed iframe
//     whose document has its own CSP (no script, no remote loads, unique
//     origin), so tracking pixels do not fire. Raw detector values are
//     never shown (only the report's masked samples).
//   - Every response carries a strict CSP with no inline script or style;
//     only the message page adds frame-src 'self' for that iframe.
//
// OpenID Connect: with Config.SSO the sign-in page offers "Sign in with
// SSO" (code flow with PKCE, single-use state, nonce, verified ID token,
// groups mapped to roles; oidc.go). Password + TOTP stays as break-glass
// unless Config.DisableLocalLogin.
//
// Proxy single sign-on: with Config.TrustedProxies and Config.ProxyUserHeader
// set, a request whose connection comes from a trusted proxy address and
// carries that header (e.g. X-Forwarded-User from oauth2-proxy, Apache
// mod_auth_mellon or an IdP-aware load balancer) is signed in as that
// local account, with the account's role, without password or TOTP: the
// proxy did the authentication. The header is ignored from every other
// address, so the console must only be reachable through the proxy (or
// on loopback behind it), and the proxy must strip the header from what
// clients send. The proxy's last X-Forwarded-For hop becomes the client IP
// in the audit log. The account must exist (sendguard user add), so roles
// stay managed here.
//
// Storage (buckets in the gateway's DB, prefix console_):
//
//	console_users     name → user JSON (argon2id hash, TOTP secret, role, language)
//	console_sessions  sha256(session id) → session JSON
//
// The detector filter of the queue reads reports of the records it shows:
// it walks the filtered listing page by page and keeps the records whose
// report has a finding of that detector, reading at most detectorScan
// records per request and offering "continue" when the budget runs out.
// There is no detector index.
package console
