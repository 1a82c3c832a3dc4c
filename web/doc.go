// Package web serves the link pages of held messages: the sender's confirm
// page, the approver's page and the delay's cancel page, reached from
// notice mails at BASE/h/{token}.
//
// Invariants:
//   - GET never changes anything: a mail scanner that prefetches a link
//     sees the page and nothing more. Only POST acts, through
//     hold.Store.TransitionWithToken, so the token is consumed and the
//     message released, rejected or cancelled in one transaction, exactly
//     once however many requests race.
//   - A POST must carry the CSRF token of its link (an HMAC under a key the
//     pages never show) and must not come from another site (Sec-Fetch-Site,
//     or an Origin other than the base URL's); otherwise it is refused with
//     403 and nothing changes.
//   - The sender's "Send" is refused unless every external domain and every
//     top-level attachment was acknowledged; the page's script only mirrors
//     this rule.
//   - Every response carries a strict CSP (no inline script or style), no
//     caching, a same-origin referrer policy and nosniff. Untrusted mail content is escaped;
//     the held mail's own HTML is never rendered.
//   - Raw link tokens are never logged; requests with unknown or malformed
//     tokens are rate-limited per client IP.
package web
