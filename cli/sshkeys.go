package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// sshKeysCmd is `strata keys`: the SSH public keys one logs in with over
// `strata serve --ssh` (not the master keys: those are 'strata admin keys').
func (a *app) sshKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Your SSH public keys, to log in with ssh, sftp and scp (master keys: 'strata admin keys')",
		Long: `Manage the SSH public keys that log in as you on a server started with
'strata serve --ssh ADDR': ssh -p PORT you@host opens the file manager, and
sftp and scp copy files, under the same policies as the API.

These are login keys. The master keys that encrypt the store are another
thing: 'strata admin keys rotate|status'.`,
	}
	add := &cobra.Command{
		Use:   "add FILE|-",
		Short: "Add an OpenSSH public key (a .pub file, or - for standard input)",
		Args:  cobra.ExactArgs(1),
	}
	addUser := ownerFlag(add, "keys")
	a.storeCmd(add, func(ctx context.Context, s *session, args []string) error {
		return a.addSSHKey(ctx, s, *addUser, args[0])
	})
	ls := &cobra.Command{Use: "ls", Short: "List your SSH public keys", Args: cobra.NoArgs}
	lsUser := ownerFlag(ls, "keys")
	a.storeCmd(ls, func(ctx context.Context, s *session, _ []string) error {
		ks, err := s.SSHKeys(ctx, *lsUser)
		if err != nil {
			return err
		}
		tab := a.table("FINGERPRINT\tTYPE\tCOMMENT\tADDED")
		for _, k := range ks {
			comment := k.Comment
			if comment == "" {
				comment = "-"
			}
			if err := tab.row(k, k.Fingerprint, k.Type, comment, localTime(k.Created)); err != nil {
				return err
			}
		}
		return tab.flush()
	})
	rm := &cobra.Command{Use: "rm FINGERPRINT...", Short: "Remove SSH public keys (by the fingerprint 'strata keys ls' shows)", Args: cobra.MinimumNArgs(1)}
	rmUser := ownerFlag(rm, "keys")
	a.storeCmd(rm, func(ctx context.Context, s *session, args []string) error {
		return eachArg(args, func(fp string) error { return s.RemoveSSHKey(ctx, *rmUser, fp) })
	})
	cmd.AddCommand(add, ls, rm)
	return cmd
}

// addKeyCmd is `strata admin user add-key USER FILE|-`.
func (a *app) addKeyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "add-key NAME FILE|-",
		Short: "Give a user an SSH public key to log in with (strata serve --ssh)",
		Args:  cobra.ExactArgs(2),
	}
	return a.storeCmd(c, func(ctx context.Context, s *session, args []string) error {
		return a.addSSHKey(ctx, s, args[0], args[1])
	})
}

func (a *app) addSSHKey(ctx context.Context, s *session, user, file string) error {
	line, err := a.readDocument(file)
	if err != nil {
		return err
	}
	k, err := s.AddSSHKey(ctx, user, string(line))
	if err != nil {
		return err
	}
	if a.jsonOut {
		return a.printJSON(k)
	}
	if !a.quiet {
		fmt.Fprintf(a.env.Stderr, "%s key %s now logs in as %s over SSH\n", k.Type, k.Fingerprint, k.User)
	}
	return nil
}
