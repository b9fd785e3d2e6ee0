package server

import (
	"context"

	"github.com/strata-storage/strata/backend/iam"
)

// An entry point other than the network and the private socket (the SSH
// server's sessions) serves the API in-process, on connections of its own:
// it marks each connection's context with WithEntryPoint (an
// http.Server's ConnContext), and the API then decides for their requests
// with that strata:Via. Only code in this process can set it.
type entryKey struct{}

// EntryPoint is what the API knows of an in-process entry point's
// connection.
type EntryPoint struct {
	// Via is the entry point (iam.ViaSSH, iam.ViaSFTP).
	Via string
	// Secure says the entry point's own transport is encrypted (SSH is):
	// strata:SecureTransport.
	Secure bool
	// Web is the server's HTTP address (scheme://host:port) for what is
	// built from the address a request came to, a share link's URL when
	// the server was given no public URL: the entry point's requests come
	// to an internal one. "" when it has none.
	Web string
}

// WithEntryPoint marks ctx, a connection's context, as e's.
func WithEntryPoint(ctx context.Context, e EntryPoint) context.Context {
	return context.WithValue(ctx, entryKey{}, e)
}

func entryPoint(ctx context.Context) (EntryPoint, bool) {
	e, ok := ctx.Value(entryKey{}).(EntryPoint)
	return e, ok && e.Via != "" && e.Via != iam.ViaHTTP && e.Via != iam.ViaSocket
}
