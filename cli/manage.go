package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/strata-storage/strata/internal/human"
)

func (a *app) trashCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trash",
		Short: "List, restore and empty the trash",
	}
	ls := &cobra.Command{Use: "ls", Short: "List the trash, newest first", Args: cobra.NoArgs}
	lsUser := ownerFlag(ls, "trash")
	a.storeCmd(ls, func(ctx context.Context, s *session, _ []string) error {
		s = s.forOwner(*lsUser)
		tab := a.table("ID\tDELETED\tSIZE\tPATH")
		err := paged(func(cursor string) (string, error) {
			tp, err := s.Trash(ctx, cursor)
			if err != nil {
				return "", err
			}
			for _, t := range tp.Items {
				size, p := human.Bytes(t.Size), t.Path
				if t.Kind == "dir" {
					size, p = "-", p+"/"
				}
				if err := tab.row(t, t.ID, localTime(t.Deleted), size, p); err != nil {
					return "", err
				}
			}
			return tp.Cursor, nil
		})
		if err != nil {
			return err
		}
		return tab.flush()
	})

	restore := &cobra.Command{
		Use:   "restore ID...",
		Short: "Put trashed files and folders back where they were (or --to a path)",
		Args:  cobra.MinimumNArgs(1),
	}
	to := restore.Flags().String("to", "", "restore to this path instead")
	restoreUser := ownerFlag(restore, "trash")
	a.storeCmd(restore, func(ctx context.Context, s *session, args []string) error {
		dest := ""
		if *to != "" {
			if len(args) > 1 {
				return usagef("--to takes one ID")
			}
			var err error
			if dest, err = s.remote(ctx, *to); err != nil {
				return err
			}
		}
		s = s.forOwner(*restoreUser)
		return eachArg(args, func(id string) error {
			e, err := s.RestoreTrash(ctx, id, dest)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(e)
			}
			if !a.quiet {
				fmt.Fprintf(a.env.Stderr, "restored %s\n", e.Path)
			}
			return nil
		})
	})

	purge := &cobra.Command{Use: "rm ID...", Short: "Delete trashed items for good", Args: cobra.MinimumNArgs(1)}
	purgeUser := ownerFlag(purge, "trash")
	a.storeCmd(purge, func(ctx context.Context, s *session, args []string) error {
		s = s.forOwner(*purgeUser)
		return eachArg(args, func(id string) error { return s.PurgeTrash(ctx, id) })
	})

	empty := &cobra.Command{Use: "empty", Short: "Delete everything in the trash for good", Args: cobra.NoArgs}
	yes := empty.Flags().BoolP("yes", "y", false, "do not ask for confirmation")
	emptyUser := ownerFlag(empty, "trash")
	a.storeCmd(empty, func(ctx context.Context, s *session, _ []string) error {
		whose := "your trash"
		if *emptyUser != "" {
			whose = "the trash of " + *emptyUser
		}
		if !*yes {
			ok, err := a.confirm("Delete everything in " + whose + " for good?")
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("not confirmed; nothing deleted")
			}
		}
		n, err := s.forOwner(*emptyUser).EmptyTrash(ctx)
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(map[string]int{"purged": n})
		}
		fmt.Fprintf(a.env.Stderr, "deleted %s for good\n", human.Plural(n, "item", "items"))
		return nil
	})
	cmd.AddCommand(ls, restore, purge, empty)
	return cmd
}

// confirm asks a yes/no question on a terminal; without one it refuses, so
// scripts must say --yes.
func (a *app) confirm(question string) (bool, error) {
	f, ok := a.env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, usagef("%s Not on a terminal: pass --yes to confirm", question)
	}
	fmt.Fprintf(a.env.Stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return false, err
	}
	ans := strings.ToLower(strings.TrimSpace(line))
	return ans == "y" || ans == "yes", nil
}

func (a *app) versionsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "versions PATH",
		Short: "List a file's versions, or restore one with --restore N",
		Long: `List the kept versions of a file, newest first. 'strata get --version N' or
'strata cat --version N' reads an old one; --restore N makes it current again
(as a new version: nothing is lost).`,
		Args: cobra.ExactArgs(1),
	}
	restore := cmd.Flags().Int64("restore", 0, "make version N current again")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		p, err := s.remote(ctx, args[0])
		if err != nil {
			return err
		}
		if *restore > 0 {
			e, err := s.RestoreVersion(ctx, p, *restore)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(e)
			}
			fmt.Fprintf(a.env.Stderr, "version %d of %s is now current as version %d\n", *restore, p, e.Version)
			return nil
		}
		tab := a.table("VERSION\tWRITTEN\tSIZE\tBY\tUSER ID\tSHA-256\t")
		err = paged(func(cursor string) (string, error) {
			vp, err := s.Versions(ctx, p, cursor)
			if err != nil {
				return "", err
			}
			for _, v := range vp.Versions {
				cur := ""
				if v.Current {
					cur = "(current)"
				}
				id := v.AuthorID
				if id == "" {
					id = "-" // written before versions kept it
				}
				if err := tab.row(v, v.Version, localTime(v.Time), human.Bytes(v.Size), v.Author, id, v.SHA256[:16], cur); err != nil {
					return "", err
				}
			}
			return vp.Cursor, nil
		})
		if err != nil {
			return err
		}
		return tab.flush()
	})
}

func (a *app) uploadsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "uploads",
		Short: "List or abort unfinished resumable uploads (yours, and others' into your home)",
	}
	ls := &cobra.Command{Use: "ls", Short: "List unfinished uploads", Args: cobra.NoArgs}
	lsUser := ownerFlag(ls, "uploads")
	a.storeCmd(ls, func(ctx context.Context, s *session, _ []string) error {
		us, err := s.forOwner(*lsUser).Uploads(ctx)
		if err != nil {
			return err
		}
		tab := a.table("ID\tSTARTED\tEXPIRES\tSIZE\tPARTS\tBY\tPATH")
		for _, u := range us {
			// Someone else's, reserving in the home: its path is theirs.
			by := "-"
			if u.User != "" {
				by = u.User
			}
			if err := tab.row(u, u.ID, localTime(u.Created), localTime(u.Expires), human.Bytes(u.Size), u.Parts, by, u.Path); err != nil {
				return err
			}
		}
		return tab.flush()
	})
	abort := &cobra.Command{Use: "abort ID...", Short: "Abort unfinished uploads and discard their parts", Args: cobra.MinimumNArgs(1)}
	abortUser := ownerFlag(abort, "uploads")
	a.storeCmd(abort, func(ctx context.Context, s *session, args []string) error {
		s = s.forOwner(*abortUser)
		return eachArg(args, func(id string) error { return s.AbortUpload(ctx, id) })
	})
	cmd.AddCommand(ls, abort)
	return cmd
}

func (a *app) adminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage users, tokens, storage and keys (admins; 'token' also for yourself)",
	}
	user := &cobra.Command{Use: "user", Short: "Manage users"}
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a user (home folder /home/NAME) and print a first token for them",
		Args:  cobra.ExactArgs(1),
	}
	admin := add.Flags().Bool("admin", false, "make the user an admin")
	noToken := add.Flags().Bool("no-token", false, "do not create a first token")
	a.storeCmd(add, func(ctx context.Context, s *session, args []string) error {
		r, err := s.CreateUser(ctx, args[0], *admin, !*noToken)
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(r)
		}
		fmt.Fprintf(a.env.Stdout, "Created user %s (home %s).\n", r.User.Name, r.User.Home)
		if r.Token != nil {
			fmt.Fprintf(a.env.Stdout, "Their token, shown only this once:\n\n    %s\n\n", r.Token.Secret)
		}
		return nil
	})
	uls := a.storeCmd(&cobra.Command{Use: "ls", Short: "List users", Args: cobra.NoArgs},
		func(ctx context.Context, s *session, _ []string) error {
			us, err := s.Users(ctx)
			if err != nil {
				return err
			}
			tab := a.table("NAME\tGROUPS\tPOLICIES\tPASSWORD\tHOME\tCREATED\tAWS IDENTITIES")
			for _, u := range us {
				pw := "-"
				if u.Password {
					pw = "yes"
				}
				if err := tab.row(u, u.Name, listOrDash(u.Groups), listOrDash(u.Policies), pw, u.Home, localTime(u.Created), listOrDash(u.AWSIdentities)); err != nil {
					return err
				}
			}
			return tab.flush()
		})
	urm := a.storeCmd(&cobra.Command{Use: "rm NAME...", Short: "Remove users and revoke their tokens (their files stay)", Args: cobra.MinimumNArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			return eachArg(args, func(name string) error { return s.DeleteUser(ctx, name) })
		})
	addAWS := &cobra.Command{
		Use:   "add-aws-identity NAME ARN",
		Short: "Let an AWS identity log in as a user (strata login --aws)",
		Long: `Let an AWS identity log in as the user NAME with 'strata login --aws'. ARN is
that of an IAM user (arn:aws:iam::123456789012:user/alice), of an IAM role,
for every session of it (arn:aws:iam::123456789012:role/eng), or of one
session of a role (arn:aws:sts::123456789012:assumed-role/eng/alice), as AWS
spells it; paths of users and roles do not count. An ARN logs in as one user.`,
		Args: cobra.ExactArgs(2),
	}
	a.storeCmd(addAWS, func(ctx context.Context, s *session, args []string) error {
		id, err := s.AddAWSIdentity(ctx, args[0], args[1])
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(id)
		}
		if !a.quiet {
			fmt.Fprintf(a.env.Stderr, "%s now logs in as %s\n", id.ARN, id.User)
		}
		return nil
	})
	rmAWS := a.storeCmd(&cobra.Command{Use: "rm-aws-identity NAME ARN...", Short: "Stop AWS identities logging in as a user", Args: cobra.MinimumNArgs(2)},
		func(ctx context.Context, s *session, args []string) error {
			return eachArg(args[1:], func(arn string) error { return s.RemoveAWSIdentity(ctx, args[0], arn) })
		})
	lsAWS := a.storeCmd(&cobra.Command{Use: "aws-identities NAME", Short: "List the AWS identities that log in as a user", Args: cobra.ExactArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			ids, err := s.AWSIdentities(ctx, args[0])
			if err != nil {
				return err
			}
			tab := a.table("ARN\tADDED")
			for _, id := range ids {
				if err := tab.row(id, id.ARN, localTime(id.Created)); err != nil {
					return err
				}
			}
			return tab.flush()
		})
	user.AddCommand(add, uls, urm, addAWS, rmAWS, lsAWS, a.addKeyCmd())

	tok := a.tokenCmd(true)

	gc := &cobra.Command{
		Use:   "gc",
		Short: "Collect garbage now: orphaned blobs, expired uploads, unfinished purges",
		Args:  cobra.NoArgs,
	}
	grace := gc.Flags().Duration("grace", 0, "remove orphaned blobs older than this (default: the server's)")
	a.storeCmd(gc, func(ctx context.Context, s *session, _ []string) error {
		r, err := s.Collect(ctx, *grace)
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(r)
		}
		fmt.Fprintf(a.env.Stdout, "scanned %d blobs; removed %d orphaned blobs (%s), %d expired uploads, %d expired records; finished %d purges\n",
			r.ScannedBlobs, r.OrphanBlobs, human.Bytes(r.OrphanBytes), r.ExpiredUploads, r.ExpiredItems, r.Purges)
		return nil
	})
	cmd.AddCommand(user, tok, a.policyCmd(), a.groupCmd(), a.keysCmd(), gc, a.limitsCmd(), a.quotaCmd(), a.lifecycleCmd())
	cmd.AddCommand(a.auditCmd())
	return cmd
}

// parseTTL reads durations like 90m, 12h or 30d ("" is no expiry).
func parseTTL(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return parseSpan("--expires", s)
}

// parseSpan reads the positive duration of flag: 90m, 12h or 30d.
func parseSpan(flag, s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, usagef("%s %q: want e.g. 12h or 90d", flag, s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usagef("%s %q: want e.g. 12h or 90d", flag, s)
	}
	return d, nil
}

func (a *app) loginCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to a server and save it as your profile",
		Long: `Log in to a server and save it with a token (readable by you only) in
$XDG_CONFIG_HOME/strata/profile.json, so that other commands need neither.

With --user, a password (asked on the terminal, or read from standard input
with --password-stdin) is exchanged for a new token (--expires, 30 days by
default). With --aws, your AWS identity is: the standard AWS credentials
(AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, SSO, an IAM
role...) sign a request that proves who you are to AWS STS, and the server
logs you in as the user an admin mapped that identity to; the secret key
never leaves this machine. Without either, the token comes from --token,
STRATA_TOKEN, or a prompt.`,
		Args: cobra.NoArgs,
	}
	user := cmd.Flags().String("user", "", "log in as this user with a password")
	withAWS := cmd.Flags().Bool("aws", false, "log in with your AWS identity (the standard AWS credentials)")
	stdin := cmd.Flags().Bool("password-stdin", false, "read the password from standard input (for scripts)")
	expires := cmd.Flags().String("expires", "", "with --user or --aws: the token's lifetime, e.g. 12h or 90d (default 30d)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		if a.server == "" {
			return usagef("give the server: strata login --server http://host:8420")
		}
		if *withAWS && *user != "" {
			return usagef("--aws and --user: log in one way")
		}
		tok, arn := a.token, ""
		if *withAWS || *user != "" {
			// A new token, named after this machine.
			ttl, err := parseTTL(*expires)
			if err != nil {
				return err
			}
			anon, err := a.newClient(a.server, "")
			if err != nil {
				return err
			}
			host, _ := os.Hostname()
			if *withAWS {
				if tok, arn, err = a.loginAWS(ctx, anon, clipName("aws login "+host), ttl); err != nil {
					return err
				}
			} else {
				pw, err := a.readSecret("Password for "+*user+": ", *stdin)
				if err != nil {
					return err
				}
				t, err := anon.Login(ctx, *user, pw, clipName("login "+host), ttl)
				if err != nil {
					return err
				}
				tok = t.Secret
			}
		} else if tok == "" {
			t, err := a.readSecret("Token (or log in with --user NAME and a password, or --aws): ", false)
			if err != nil {
				return usagef("no token: set STRATA_TOKEN or --token, or log in with --user NAME or --aws")
			}
			tok = strings.TrimSpace(t)
		}
		c, err := a.newClient(a.server, tok)
		if err != nil {
			return err
		}
		u, err := c.Whoami(ctx)
		if err != nil {
			return err
		}
		path, err := a.saveProfile(profile{Server: a.server, Token: tok})
		if err != nil {
			return err
		}
		as := ""
		if arn != "" {
			as = " with AWS identity " + arn
		}
		fmt.Fprintf(a.env.Stderr, "Logged in to %s as %s%s (home %s); saved to %s\n", a.server, u.Name, as, u.Home, path)
		return nil
	}
	return cmd
}

// clipName keeps a token name within the 64 bytes a server takes (a long
// host name would make the login fail).
func clipName(name string) string {
	if len(name) <= 64 {
		return name
	}
	name = name[:64]
	for !utf8.ValidString(name) {
		name = name[:len(name)-1]
	}
	return name
}

// readSecret reads a password or token: the first line of standard input
// with fromStdin, else typed on the terminal without echo.
func (a *app) readSecret(prompt string, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(a.env.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", usagef("nothing on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := a.env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("%s: not on a terminal (use --password-stdin)", strings.TrimSuffix(strings.TrimSpace(prompt), ":"))
	}
	fmt.Fprint(a.env.Stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.env.Stderr)
	return string(b), err
}

// passwdCmd sets a password: one's own (asking the current one), or with
// --user a user's (admins).
func (a *app) passwdCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "passwd",
		Short: "Set your password (or --user's, for admins) for strata login --user",
		Args:  cobra.NoArgs,
	}
	user := cmd.Flags().String("user", "", "set this user's password (admins)")
	stdin := cmd.Flags().Bool("password-stdin", false, "read the new password from standard input (for scripts; admins setting another user's)")
	remove := cmd.Flags().Bool("remove", false, "remove the password: log in with tokens only")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, _ []string) error {
		current, password := "", ""
		if *user == "" && !*stdin {
			me, err := s.Whoami(ctx)
			if err != nil {
				return err
			}
			if me.Password {
				if current, err = a.readSecret("Current password: ", false); err != nil {
					return err
				}
			}
		}
		if !*remove {
			var err error
			if password, err = a.readSecret("New password: ", *stdin); err != nil {
				return err
			}
			if !*stdin {
				again, err := a.readSecret("Again: ", false)
				if err != nil {
					return err
				}
				if again != password {
					return usagef("the two passwords differ; nothing changed")
				}
			}
		}
		if err := s.SetPassword(ctx, *user, current, password); err != nil {
			return err
		}
		if !a.quiet {
			fmt.Fprintln(a.env.Stderr, map[bool]string{true: "password removed", false: "password set"}[*remove])
		}
		return nil
	})
}
