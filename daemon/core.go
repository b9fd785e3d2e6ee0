package daemon

import (
	"fmt"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/identity"
)

// Core is the core of one store: the file tree and identity, wired to each
// other (the tree resolves user names through identity; identity tells the
// tree when users come and go), both deciding with cfg's Decider.
type Core struct {
	Files    *backend.Backend
	Identity *identity.Service
}

// NewCore builds the core on the engines cfg names.
func NewCore(cfg backend.Config) (Core, error) {
	files, err := backend.New(cfg)
	if err != nil {
		return Core{}, err
	}
	ids, err := identity.New(identity.Config{Meta: cfg.Meta, Decider: cfg.Decider, Now: cfg.Now})
	if err != nil {
		return Core{}, fmt.Errorf("identity: %w", err)
	}
	ids.SetLifecycle(files)
	files.SetUsers(ids)
	return Core{Files: files, Identity: ids}, nil
}
