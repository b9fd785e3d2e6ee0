package daemon

import (
	"fmt"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/audit"
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
	// Audit is the audit log, which the file tree's and identity's writes
	// (through audit.Wrap) and decisions feed.
	Audit  *audit.Log
	Shares *shares.Service
}

// coreOptions are the settings of the core beyond the file tree's Config.
type coreOptions struct {
	identity       identity.Config
	auditRetention time.Duration
}

// CoreOption tunes the core beyond the file tree's Config.
type CoreOption func(*coreOptions)

// WithPasswordCost sets what hashing a password costs (tests make it
// cheap; a small server may want less memory).
func WithPasswordCost(c identity.PasswordCost) CoreOption {
	return func(o *coreOptions) { o.identity.PasswordCost = c }
}

// WithAuditRetention sets how long audit records are kept (0:
// audit.DefaultRetention, negative: forever).
func WithAuditRetention(d time.Duration) CoreOption {
	return func(o *coreOptions) { o.auditRetention = d }
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
	var o coreOptions
	for _, opt := range opts {
		opt(&o)
	}
	log, err := audit.New(audit.Config{Meta: cfg.Meta, Decider: cfg.Decider, Retention: o.auditRetention, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return Core{}, err
	}
	// Every write of the core goes through the audit log's wrapper: a
	// change's record rides in its transaction.
	cfg.Meta = audit.Wrap(cfg.Meta)
	files, err := backend.New(cfg)
	if err != nil {
		return Core{}, err
	}
	ic := o.identity
	ic.Meta, ic.Decider, ic.Now = cfg.Meta, cfg.Decider, cfg.Now
	ids, err = identity.New(ic)
	if err != nil {
		return Core{}, fmt.Errorf("identity: %w", err)
	}
	ids.SetLifecycle(files)
	files.SetUsers(ids)
	return Core{Files: files, Identity: ids, Audit: log, Shares: shares.New(files, ids, cfg.Meta, cfg.Decider, cfg.Now)}, nil
}
