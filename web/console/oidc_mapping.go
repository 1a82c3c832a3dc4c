package console

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// SSOMapping is the part of single sign-on a configuration reload may
// change without a restart: which claims name the user and list their
// groups, and which groups give which console role. The provider, client
// and redirect stay as started. Sessions already signed in keep the role
// they were given; the next sign-in uses the new mapping.
type SSOMapping struct {
	UsernameClaim string
	GroupsClaim   string
	Roles         map[string][]string
}

// checkMapping fills the defaults and refuses an unknown role or a
// mapping that would let nobody in.
func checkMapping(m SSOMapping) (*SSOMapping, error) {
	if m.UsernameClaim == "" {
		m.UsernameClaim = "preferred_username"
	}
	if m.GroupsClaim == "" {
		m.GroupsClaim = "groups"
	}
	mapped := 0
	roles := make(map[string][]string, len(m.Roles))
	for role, groups := range m.Roles {
		if roleRank(role) == 0 {
			return nil, fmt.Errorf("console sso: unknown role %q", role)
		}
		mapped += len(groups)
		roles[role] = slices.Clone(groups)
	}
	if mapped == 0 {
		return nil, errors.New("console sso: no group is mapped to a role")
	}
	m.Roles = roles
	return &m, nil
}

// SetMapping puts a new claims and role mapping in force for sign-ins
// from now on; an invalid one changes nothing.
func (s *SSO) SetMapping(m SSOMapping) error {
	c, err := checkMapping(m)
	if err != nil {
		return err
	}
	s.mapping.Store(c)
	return nil
}

// Mapping is the mapping in force (a copy).
func (s *SSO) Mapping() SSOMapping {
	m := *s.mapping.Load()
	m.Roles = maps.Clone(m.Roles)
	return m
}

// CheckSSOMapping reports whether SetMapping would accept m.
func CheckSSOMapping(m SSOMapping) error {
	_, err := checkMapping(m)
	return err
}
