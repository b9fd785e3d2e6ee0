package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/server/api"
)

// tokenCmd is `strata token` (for yourself) or, with admin, `strata admin
// token` (which also takes --user).
func (a *app) tokenCmd(admin bool) *cobra.Command {
	tok := &cobra.Command{Use: "token", Short: "Create, list and revoke your API tokens"}
	if admin {
		tok.Short = "Create, list and revoke API tokens (yours, or --user's for admins)"
	}
	userFlag := func(c *cobra.Command, what string) *string {
		u := new(string)
		if admin {
			c.Flags().StringVar(u, "user", "", what+" (admins)")
		}
		return u
	}
	create := &cobra.Command{Use: "create", Short: "Create a token and print it once", Args: cobra.NoArgs}
	createUser := userFlag(create, "the user the token is for")
	name := create.Flags().String("name", "", "a name to recognise the token by")
	expires := create.Flags().String("expires", "", "lifetime, e.g. 12h or 90d (default: never; never past the token you use)")
	policy := create.Flags().String("policy", "", "a session policy file (- for standard input): the token may do only what it allows too")
	a.storeCmd(create, func(ctx context.Context, s *session, _ []string) error {
		ttl, err := parseTTL(*expires)
		if err != nil {
			return err
		}
		var doc []byte
		if *policy != "" {
			if doc, err = a.readDocument(*policy); err != nil {
				return err
			}
		}
		t, err := s.CreateToken(ctx, *createUser, *name, ttl, doc)
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(t)
		}
		fmt.Fprintln(a.env.Stdout, t.Secret)
		return nil
	})
	ls := &cobra.Command{Use: "ls", Short: "List tokens (without their secrets)", Args: cobra.NoArgs}
	lsUser := userFlag(ls, "whose tokens")
	a.storeCmd(ls, func(ctx context.Context, s *session, _ []string) error {
		ts, err := s.Tokens(ctx, *lsUser)
		if err != nil {
			return err
		}
		tab := a.table("ID\tNAME\tCREATED\tEXPIRES\tSESSION POLICY")
		for _, t := range ts {
			exp, sp := "never", "-"
			if t.Expires != nil {
				exp = localTime(*t.Expires)
			}
			if t.SessionPolicy != "" {
				sp = "yes"
			}
			if err := tab.row(t, t.ID, t.Name, localTime(t.Created), exp, sp); err != nil {
				return err
			}
		}
		return tab.flush()
	})
	revoke := &cobra.Command{Use: "revoke ID...", Short: "Revoke tokens", Args: cobra.MinimumNArgs(1)}
	revokeUser := userFlag(revoke, "whose token")
	a.storeCmd(revoke, func(ctx context.Context, s *session, args []string) error {
		return eachArg(args, func(id string) error { return s.RevokeToken(ctx, *revokeUser, id) })
	})
	tok.AddCommand(create, ls, revoke)
	return tok
}

// readDocument reads a policy document from a file, or standard input for
// "-".
func (a *app) readDocument(file string) ([]byte, error) {
	var r io.Reader = a.env.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, usagef("%v", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (a *app) policyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Manage policies: what users and groups may do (docs/access.md)"}
	put := func(use, short string, create bool) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1)}
		doc := c.Flags().String("document", "", "the policy document, a JSON file (- for standard input)")
		_ = c.MarkFlagRequired("document")
		return a.storeCmd(c, func(ctx context.Context, s *session, args []string) error {
			b, err := a.readDocument(*doc)
			if err != nil {
				return err
			}
			p, err := s.PutPolicy(ctx, args[0], b, create)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(p)
			}
			if !a.quiet {
				fmt.Fprintf(a.env.Stderr, "policy %s stored\n", p.Name)
			}
			return nil
		})
	}
	create := put("create NAME --document FILE", "Create a policy", true)
	update := put("update NAME --document FILE", "Replace a policy's document", false)
	get := a.storeCmd(&cobra.Command{Use: "get NAME", Short: "Print a policy's document (--json: with who it is attached to)", Args: cobra.ExactArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			p, err := s.Policy(ctx, args[0])
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(p)
			}
			_, err = fmt.Fprintln(a.env.Stdout, readableDoc(p.Document))
			return err
		})
	ls := a.storeCmd(&cobra.Command{Use: "ls", Short: "List policies and what they are attached to", Args: cobra.NoArgs},
		func(ctx context.Context, s *session, _ []string) error {
			ps, err := s.Policies(ctx)
			if err != nil {
				return err
			}
			tab := a.table("NAME\tUSERS\tGROUPS\tUPDATED")
			for _, p := range ps {
				name := p.Name
				if p.BuiltIn {
					name += " (built in)"
				}
				if err := tab.row(p, name, listOrDash(p.Users), listOrDash(p.Groups), localTime(p.Updated)); err != nil {
					return err
				}
			}
			return tab.flush()
		})
	rm := a.storeCmd(&cobra.Command{Use: "rm NAME...", Short: "Delete policies (detach them first)", Args: cobra.MinimumNArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			return eachArg(args, func(name string) error { return s.DeletePolicy(ctx, name) })
		})
	attach := func(use, short string, on bool) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1)}
		user := c.Flags().String("user", "", "the user")
		group := c.Flags().String("group", "", "the group")
		return a.storeCmd(c, func(ctx context.Context, s *session, args []string) error {
			if (*user == "") == (*group == "") {
				return usagef("name one --user or one --group")
			}
			return s.AttachPolicy(ctx, args[0], api.AttachRequest{User: *user, Group: *group}, on)
		})
	}
	sim := &cobra.Command{
		Use:   "simulate --user USER --action ACTION --resource RESOURCE",
		Short: "Say whether a user may do an action on a resource, and which statement decides",
		Args:  cobra.NoArgs,
	}
	var req api.SimulateRequest
	sim.Flags().StringVar(&req.User, "user", "", "the user")
	sim.Flags().StringVar(&req.Action, "action", "", "the action, e.g. strata:GetFile")
	sim.Flags().StringVar(&req.Resource, "resource", "", "a path, or strata:<kind>/...")
	sim.Flags().StringVar(&req.SourceIP, "source-ip", "", "strata:SourceIp of the request")
	sim.Flags().BoolVar(&req.SecureTransport, "secure", false, "strata:SecureTransport: the request came over TLS")
	sim.Flags().StringVar(&req.Via, "via", "", "strata:Via: http, ssh, sftp or share")
	at := sim.Flags().String("time", "", "strata:CurrentTime (RFC 3339; default now)")
	for _, f := range []string{"user", "action", "resource"} {
		_ = sim.MarkFlagRequired(f)
	}
	a.storeCmd(sim, func(ctx context.Context, s *session, _ []string) error {
		if *at != "" {
			t, err := time.Parse(time.RFC3339, *at)
			if err != nil {
				return usagef("--time %q: want RFC 3339, e.g. 2027-01-31T12:00:00Z", *at)
			}
			req.Time = &t
		}
		r, err := s.Simulate(ctx, req)
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(r)
		}
		by := r.Reason
		if st := r.Statement; st != nil {
			by = fmt.Sprintf("policy %q statement %s (%s)", st.Policy, statementName(st), st.Effect)
		}
		fmt.Fprintf(a.env.Stdout, "%s\t%s\n", r.Decision, by)
		return nil
	})
	cmd.AddCommand(create, update, get, ls, rm,
		attach("attach NAME (--user USER | --group GROUP)", "Attach a policy to a user or a group", true),
		attach("detach NAME (--user USER | --group GROUP)", "Detach a policy from a user or a group", false),
		sim)
	return cmd
}

func statementName(st *api.Statement) string {
	if st.Sid != "" {
		return fmt.Sprintf("%q", st.Sid)
	}
	return fmt.Sprintf("#%d", st.Index)
}

func listOrDash(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

func (a *app) groupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage groups of users"}
	create := a.storeCmd(&cobra.Command{Use: "create GROUP...", Short: "Create groups", Args: cobra.MinimumNArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			return eachArg(args, func(g string) error { return s.CreateGroup(ctx, g) })
		})
	ls := a.storeCmd(&cobra.Command{Use: "ls", Short: "List groups with their members and policies", Args: cobra.NoArgs},
		func(ctx context.Context, s *session, _ []string) error {
			gs, err := s.Groups(ctx)
			if err != nil {
				return err
			}
			tab := a.table("GROUP\tMEMBERS\tPOLICIES")
			for _, g := range gs {
				members := listOrDash(g.Members)
				if len(g.Members) > 5 {
					members = human.Plural(len(g.Members), "member", "members")
				}
				if err := tab.row(g, g.Name, members, listOrDash(g.Policies)); err != nil {
					return err
				}
			}
			return tab.flush()
		})
	rm := a.storeCmd(&cobra.Command{Use: "rm GROUP...", Short: "Delete groups (empty them first)", Args: cobra.MinimumNArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			return eachArg(args, func(g string) error { return s.DeleteGroup(ctx, g) })
		})
	member := func(use, short string, in bool) *cobra.Command {
		return a.storeCmd(&cobra.Command{Use: use, Short: short, Args: cobra.MinimumNArgs(2)},
			func(ctx context.Context, s *session, args []string) error {
				return eachArg(args[1:], func(u string) error { return s.GroupMember(ctx, args[0], u, in) })
			})
	}
	cmd.AddCommand(create, ls, rm,
		member("add-user GROUP USER...", "Put users in a group", true),
		member("remove-user GROUP USER...", "Take users out of a group", false))
	return cmd
}

// whoamiCmd says who you are on the store, and what decides what you may
// do.
func (a *app) whoamiCmd() *cobra.Command {
	return a.storeCmd(&cobra.Command{Use: "whoami", Short: "Show who you are and the policies that decide what you may do", Args: cobra.NoArgs},
		func(ctx context.Context, s *session, _ []string) error {
			u, err := s.Whoami(ctx)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(u)
			}
			fmt.Fprintf(a.env.Stdout, "%s (home %s)\ngroups: %s\n", u.Name, u.Home, listOrDash(u.Groups))
			for _, p := range u.Applies {
				fmt.Fprintf(a.env.Stdout, "\npolicy %s:\n%s\n", p.Name, readableDoc(p.Document))
			}
			if u.SessionPolicy != "" {
				fmt.Fprintf(a.env.Stdout, "\nthis token's session policy (it may do only what this allows too):\n%s\n", readableDoc([]byte(u.SessionPolicy)))
			}
			return nil
		})
}

// readableDoc is a policy document to read on a terminal: as its author
// wrote it, or indented when it is all on one line (the built-in ones,
// and most written by scripts).
func readableDoc(doc []byte) string {
	doc = bytes.TrimSpace(doc)
	if bytes.ContainsRune(doc, '\n') {
		return string(doc)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return string(doc)
	}
	return out.String()
}
