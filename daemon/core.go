package daemon

import (
	"fmt"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/shares"
)

// Core is the core of one store: the file tree and identity, wired to each
// other (the tree resolves user names through identity; identity tells the
// tree when users come and go), both deciding with cfg's Decider.
type Core struct {
	Files    *backend.Backend
	Identity *identity.Service
	Shares   *shares.Service
}

// CoreOption tunes the core beyond the file tree's Config.
type CoreOption func(*identity.Config)

// WithPasswordCost sets what hashing a password costs (tests make it
// cheap; a small server may want less memory).
func WithPasswordCost(c identity.PasswordCost) CoreOption {
	return func(ic *identity.Config) { ic.PasswordCost = c }
}

// NewCore builds the core on the engines cfg names. Its decisions are
// made by the policies stored in it (identity is their source, cached),
// unless cfg names a Decider.
func NewCore(cfg backend.Config, opts ...CoreOption) (Core, error) {
	var ids *identity.Service
	if cfg.Decider == nil {
		cfg.Decider = iam.NewPolicyDecider(iam.PolicySourceFunc(func(pr iam.Principal) (*iam.PolicySet, error) {
			return ids.Policies(pr)
		}), cfg.Now)
	}
	files, err := backend.New(cfg)
	if err != nil {
		return Core{}, err
	}
	ic := identity.Config{Meta: cfg.Meta, Decider: cfg.Decider, Now: cfg.Now}
	for _, o := range opts {
		o(&ic)
	}
	ids, err = identity.New(ic)
	if err != nil {
		return Core{}, fmt.Errorf("identity: %w", err)
	}
	ids.SetLifecycle(files)
	files.SetUsers(ids)
	return Core{Files: files, Identity: ids, Shares: shares.New(files, ids, cfg.Meta, cfg.Decider, cfg.Now)}, nil
}
