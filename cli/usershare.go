package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/server/api"
)

// addUserShareCmds adds the commands of shares between users to share:
// add, remove, grants (what you shared), received (what others shared
// with you) and leave.
func (a *app) addUserShareCmds(share *cobra.Command) {
	add := &cobra.Command{
		Use:   "add PATH",
		Short: "Share a file or folder with users or groups (--user, --group; read-only unless --write)",
		Long: `Share a file or folder with users or groups. Each --user and --group is given
the share, read-only unless --write. They find it at /shared/<you>/<name>,
where <name> is the entry's name (or --name); the share follows the entry
when you rename or move it. Sharing again with someone changes the mode.`,
		Args: cobra.ExactArgs(1),
	}
	users := add.Flags().StringSlice("user", nil, "a user to share with (repeat or separate with commas)")
	groups := add.Flags().StringSlice("group", nil, "a group to share with (repeat or separate with commas)")
	write := add.Flags().Bool("write", false, "let them change it (write, delete, rename inside); default read-only")
	name := add.Flags().String("name", "", "the name it has under /shared/<you>/ (default: its own name)")
	a.storeCmd(add, func(ctx context.Context, s *session, args []string) error {
		if len(*users)+len(*groups) == 0 {
			return usagef("share with whom? give --user NAME or --group NAME")
		}
		p, err := s.remote(ctx, args[0])
		if err != nil {
			return err
		}
		me, err := myName(ctx, s)
		if err != nil {
			return err
		}
		tab := a.table("PATH\tWITH\tMODE\tSEEN AS")
		for _, to := range recipients(*users, *groups) {
			req := api.UserShareRequest{Path: p, Write: *write, Name: *name}
			if to.group {
				req.Group = to.name
			} else {
				req.User = to.name
			}
			u, err := s.ShareWith(ctx, req)
			if err != nil {
				return err
			}
			if err := tab.row(u, u.Path, with(u), mode(u.Write), seenAs(me, u)); err != nil {
				return err
			}
		}
		return tab.flush()
	})

	remove := &cobra.Command{
		Use:   "remove PATH",
		Short: "Stop sharing a file or folder with users or groups (--user, --group)",
		Args:  cobra.ExactArgs(1),
	}
	rmUsers := remove.Flags().StringSlice("user", nil, "a user to stop sharing with")
	rmGroups := remove.Flags().StringSlice("group", nil, "a group to stop sharing with")
	a.storeCmd(remove, func(ctx context.Context, s *session, args []string) error {
		if len(*rmUsers)+len(*rmGroups) == 0 {
			return usagef("stop sharing with whom? give --user NAME or --group NAME")
		}
		p, err := s.remote(ctx, args[0])
		if err != nil {
			return err
		}
		for _, to := range recipients(*rmUsers, *rmGroups) {
			user, group := to.name, ""
			if to.group {
				user, group = "", to.name
			}
			if err := s.Unshare(ctx, p, user, group); err != nil {
				return err
			}
			if !a.quiet && !a.jsonOut {
				fmt.Fprintf(a.env.Stderr, "%s is no longer shared with %s\n", p, to)
			}
		}
		return nil
	})

	grants := &cobra.Command{
		Use:   "grants [PATH]",
		Short: "List what you share with users and groups (of PATH only, if given)",
		Args:  cobra.MaximumNArgs(1),
	}
	a.storeCmd(grants, func(ctx context.Context, s *session, args []string) error {
		p := ""
		if len(args) == 1 {
			var err error
			if p, err = s.remote(ctx, args[0]); err != nil {
				return err
			}
		}
		us, err := s.UserShares(ctx, p)
		if err != nil {
			return err
		}
		me, err := myName(ctx, s)
		if err != nil {
			return err
		}
		tab := a.table("PATH\tWITH\tMODE\tSEEN AS\tSINCE\tSTATE")
		for _, u := range us {
			state := "ok"
			if !u.Available {
				state = "unavailable (in the trash?)"
			}
			if err := tab.row(u, u.Path, with(u), mode(u.Write), seenAs(me, u), localTime(u.Created), state); err != nil {
				return err
			}
		}
		return tab.flush()
	})

	received := &cobra.Command{
		Use:   "received",
		Short: "List what others share with you (you find it under /shared)",
		Args:  cobra.NoArgs,
	}
	a.storeCmd(received, func(ctx context.Context, s *session, _ []string) error {
		rs, err := s.ReceivedShares(ctx)
		if err != nil {
			return err
		}
		tab := a.table("PATH\tOWNER\tMODE\tVIA\tSINCE")
		for _, r := range rs {
			via := strings.Join(r.Groups, ",")
			if r.Direct {
				via = strings.TrimSuffix("you,"+via, ",")
			}
			if err := tab.row(r, r.Path, r.Owner, mode(r.Write), via, localTime(r.Created)); err != nil {
				return err
			}
		}
		return tab.flush()
	})

	leave := &cobra.Command{
		Use:   "leave /shared/OWNER/NAME...",
		Short: "Leave shares others made with you (or your groups): they leave your /shared",
		Args:  cobra.MinimumNArgs(1),
	}
	a.storeCmd(leave, func(ctx context.Context, s *session, args []string) error {
		return eachArg(args, func(arg string) error {
			if err := s.LeaveShare(ctx, arg); err != nil {
				return err
			}
			if !a.quiet && !a.jsonOut {
				fmt.Fprintf(a.env.Stderr, "left %s\n", arg)
			}
			return nil
		})
	})
	share.AddCommand(add, remove, grants, received, leave)
}

type recipient struct {
	name  string
	group bool
}

func (r recipient) String() string {
	if r.group {
		return "group " + r.name
	}
	return r.name
}

func recipients(users, groups []string) []recipient {
	var out []recipient
	for _, u := range users {
		out = append(out, recipient{name: u})
	}
	for _, g := range groups {
		out = append(out, recipient{name: g, group: true})
	}
	return out
}

func with(u api.UserShare) string {
	if u.Group != "" {
		return "group " + u.Group
	}
	return u.User
}

func mode(write bool) string {
	if write {
		return "read-write"
	}
	return "read-only"
}

// seenAs is where the recipients of the shares of owner find a share.
func seenAs(owner string, u api.UserShare) string {
	return "/shared/" + owner + "/" + u.Name
}

// myName is the caller's user name.
func myName(ctx context.Context, s *session) (string, error) {
	u, err := s.Whoami(ctx)
	return u.Name, err
}
