package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// storeCmd makes c a command that works on the store: its RunE connects
// (see connect) and hands run a session, the client with the caller's home
// for relative paths. Every command that talks to the store is built with
// it.
func (a *app) storeCmd(c *cobra.Command, run func(ctx context.Context, s *session, args []string) error) *cobra.Command {
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		s, err := a.session(ctx)
		if err != nil {
			return err
		}
		return run(ctx, s, args)
	}
	return c
}

// eachArg runs fn on each argument in turn, stopping at the first
// failure.
func eachArg(args []string, fn func(arg string) error) error {
	for _, arg := range args {
		if err := fn(arg); err != nil {
			return err
		}
	}
	return nil
}

// paged reads a listing page by page: page gets "" and then each cursor
// it returned, until it returns "".
func paged(page func(cursor string) (next string, err error)) error {
	cursor := ""
	for {
		next, err := page(cursor)
		if err != nil || next == "" {
			return err
		}
		cursor = next
	}
}

// ownerFlag adds --user to a command about the caller's trash or upload
// sessions: an admin names whose instead.
func ownerFlag(c *cobra.Command, what string) *string {
	var user string
	c.Flags().StringVar(&user, "user", "", "act on this user's "+what+" instead of yours (admins)")
	return &user
}

// forOwner is the session acting on the things of user ("" keeps s's own).
func (s *session) forOwner(user string) *session {
	if user == "" {
		return s
	}
	return &session{Client: s.As(user), home: s.home}
}

// eachPath runs fn on each path argument in turn, resolved as s.remote
// reads it, and with --json prints what fn returns; it stops at the first
// failure.
func (a *app) eachPath(ctx context.Context, s *session, args []string, fn func(p string) (any, error)) error {
	return eachArg(args, func(arg string) error {
		p, err := s.remote(ctx, arg)
		if err != nil {
			return err
		}
		v, err := fn(p)
		if err != nil || !a.jsonOut {
			return err
		}
		return a.printJSON(v)
	})
}
