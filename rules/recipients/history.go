package recipients

import "sync"

// History tells whether the organisation has delivered to a domain before.
// Domains are passed in canonical form (NormalizeDomain: lower-case
// punycode, no trailing dot); a persistent implementation should store them
// in that form too. Implementations used by a shared Analyzer must be safe
// for concurrent use.
type History interface {
	Known(domain string) bool
}

// MemoryHistory is an in-memory History, safe for concurrent use.
type MemoryHistory struct {
	mu      sync.RWMutex
	domains map[string]struct{}
}

// NewMemoryHistory returns a History that knows the given domains.
// Domains that cannot be normalised are kept as lower-cased text.
func NewMemoryHistory(domains ...string) *MemoryHistory {
	h := &MemoryHistory{domains: make(map[string]struct{}, len(domains))}
	for _, d := range domains {
		h.Add(d)
	}
	return h
}

// Add records a delivery to domain.
func (h *MemoryHistory) Add(domain string) {
	d, _ := NormalizeDomain(domain)
	h.mu.Lock()
	h.domains[d] = struct{}{}
	h.mu.Unlock()
}

// Known reports whether domain was added before.
func (h *MemoryHistory) Known(domain string) bool {
	h.mu.RLock()
	_, ok := h.domains[domain]
	h.mu.RUnlock()
	return ok
}
