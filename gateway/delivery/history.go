package delivery

import (
	"encoding/json"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/rules/address"
	"github.com/sendguard/sendguard/rules/addressee"
	"github.com/sendguard/sendguard/spool"
)

var (
	bucketDomains = []byte("domains")
	// bucketPartnerNames maps a domain to the company names (JSON
	// []addressee.NameWeight) delivered mail showed with it.
	bucketPartnerNames = []byte("partner_names")
)

// maxLearnedDomains bounds the learned partner names: past it, new
// domains are not learned (known ones still are).
const maxLearnedDomains = 50_000

// History is the organisation's delivery history: the external domains it
// has delivered to, learned from delivered mail. The recipient analysis
// asks it which domains are first-time. Partner domains from the config
// count as known without it.
type History struct {
	db *bbolt.DB
	// Now is the clock of NamesFor's decay (tests); nil is time.Now.
	Now func() time.Time
}

// NewHistory opens the history in the spool's database.
func NewHistory(db *bbolt.DB) (*History, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketDomains); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(bucketPartnerNames)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &History{db: db}, nil
}

// Known reports whether mail was ever delivered to domain.
func (h *History) Known(domain string) bool {
	known := false
	h.db.View(func(tx *bbolt.Tx) error {
		known = tx.Bucket(bucketDomains).Get([]byte(strings.ToLower(domain))) != nil
		return nil
	})
	return known
}

// LearnTx implements queue.Learner: what a finished attempt teaches commits
// with it.
func (h *History) LearnTx(tx *bbolt.Tx, rec *spool.Record, now time.Time) error {
	return learnTx(tx, rec, now)
}

// learnTx records the domains of delivered recipients (first delivery time).
func learnTx(tx *bbolt.Tx, rec *spool.Record, now time.Time) error {
	b := tx.Bucket(bucketDomains)
	if b == nil || rec.Kind != spool.KindMail {
		return nil
	}
	for _, rc := range rec.Rcpts {
		if rc.Status != spool.RcptDelivered {
			continue
		}
		// The analysis asks in the parser's canonical form (A-labels); a
		// routed address teaches nothing about its domain.
		a, err := address.Parse(rc.Addr)
		if err != nil || a.Routed() {
			continue
		}
		k := []byte(a.ASCIIDomain)
		if b.Get(k) == nil {
			if err := b.Put(k, []byte(now.UTC().Format(time.RFC3339))); err != nil {
				return err
			}
		}
	}
	return learnNamesTx(tx, rec, now)
}

// NamesFor implements addressee.LearnedNames: the company names delivered
// mail showed with domain, heaviest first, above the learning threshold.
func (h *History) NamesFor(domain string) []string {
	var ws []addressee.NameWeight
	h.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketPartnerNames); b != nil {
			if v := b.Get([]byte(strings.ToLower(domain))); v != nil {
				json.Unmarshal(v, &ws)
			}
		}
		return nil
	})
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	return addressee.Above(ws, now)
}

// learnNamesTx records, for each delivered external recipient whose
// display name carries a company, that company with the recipient's
// domain. Mail the addressee check found mis-addressed teaches nothing,
// even once the sender confirmed it.
func learnNamesTx(tx *bbolt.Tx, rec *spool.Record, now time.Time) error {
	b := tx.Bucket(bucketPartnerNames)
	if b == nil || rec.Kind != spool.KindMail || len(rec.Report) == 0 {
		return nil
	}
	var rep struct {
		Recipients struct {
			List []struct {
				Address  string `json:"address"`
				Name     string `json:"name"`
				External bool   `json:"external"`
			} `json:"list"`
		} `json:"recipients"`
		Findings []struct {
			Detector string `json:"detector"`
		} `json:"findings"`
		PartnerNames []struct {
			Domain string `json:"domain"`
			Name   string `json:"name"`
		} `json:"partner_names"`
	}
	if json.Unmarshal(rec.Report, &rep) != nil {
		return nil
	}
	for _, f := range rep.Findings {
		if f.Detector == "addressee_mismatch" {
			return nil
		}
	}
	delivered := map[string]bool{}
	for _, rc := range rec.Rcpts {
		if rc.Status == spool.RcptDelivered {
			delivered[strings.ToLower(rc.Addr)] = true
		}
	}
	// Display names of delivered recipients, and quoted signatures
	// whose domain a delivered recipient has.
	type pair struct{ domain, company string }
	var pairs []pair
	deliveredDomains := map[string]bool{}
	for _, r := range rep.Recipients.List {
		if !r.External || !delivered[strings.ToLower(r.Address)] {
			continue
		}
		a, err := address.Parse(r.Address)
		if err != nil || a.Routed() {
			continue
		}
		deliveredDomains[a.ASCIIDomain] = true
		if company, ok := addressee.CompanyInDisplayName(r.Name); ok && r.Name != "" {
			pairs = append(pairs, pair{a.ASCIIDomain, company})
		}
	}
	for _, q := range rep.PartnerNames {
		if d := strings.ToLower(q.Domain); deliveredDomains[d] {
			pairs = append(pairs, pair{d, q.Name})
		}
	}
	seen := map[string]bool{} // one observation per message, domain and company
	for _, p := range pairs {
		company := p.company
		k := []byte(p.domain)
		if once := p.domain + "\x00" + addressee.NormalizeName(company); seen[once] {
			continue
		} else {
			seen[once] = true
		}
		var ws []addressee.NameWeight
		if v := b.Get(k); v != nil {
			json.Unmarshal(v, &ws)
		} else if b.Stats().KeyN >= maxLearnedDomains {
			continue
		}
		v, err := json.Marshal(addressee.Observe(ws, company, now))
		if err != nil {
			return err
		}
		if err := b.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}
