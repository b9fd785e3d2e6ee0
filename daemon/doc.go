// Package daemon owns a running Strata store: it opens the engines, wires
// the core (the file tree and identity), serves the HTTP API on a network
// listener and on the data directory's private socket, and runs the
// background jobs, with one start and one graceful stop. `strata serve`
// and local mode both run one.
package daemon
