package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/server/api"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Rotate the master key and see which keys wrap the data keys (SSH login keys: 'strata keys')",
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the master key: every data key is rewrapped, no content rewritten",
		Long: `Rotate the master key. With the key file (the embedded keys) a new master key
version is made; with KMS (--keys kms://alias/...) the key the alias names now
is the one to move to, after repointing the alias and listing the old key in
--kms-previous-keys. Then a job on the server rewraps every data key onto
that key, without reading or rewriting any content, while reads and writes
go on. It survives a restart of the server: it resumes where it was.

With the key file, old versions are removed from it once no data key uses
them. With KMS, 'strata admin keys status' says when no data key uses a
previous key any more; allow for uploads that were in flight, then drop the
key from --kms-previous-keys (and disable it).

--wait waits for the rotation to end and shows the key status. On a data
directory opened by this command (no server running), it always waits: the
rotation runs in this process.`,
		Args: cobra.NoArgs,
	}
	wait := rotate.Flags().Bool("wait", false, "wait for the rotation to end, then show the key status")
	a.storeCmd(rotate, func(ctx context.Context, s *session, _ []string) error {
		job, err := s.RotateKeys(ctx)
		if err != nil {
			return err
		}
		if !*wait && !strings.HasPrefix(s.where, "local ") {
			if a.jsonOut {
				return a.printJSON(job)
			}
			fmt.Fprintf(a.env.Stderr, "key rotation %s started; 'strata admin keys status' follows it\n", job.ID)
			return nil
		}
		st, err := s.WaitKeyRotation(ctx, a.rotationProgress())
		if err != nil {
			return err
		}
		return a.printKeyStatus(st)
	})
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the master keys, how many data keys each wraps, and the latest rotation",
		Args:  cobra.NoArgs,
	}
	waitStatus := status.Flags().Bool("wait", false, "first wait for a running rotation to end")
	a.storeCmd(status, func(ctx context.Context, s *session, _ []string) error {
		var st api.KeyStatus
		var err error
		if *waitStatus {
			st, err = s.WaitKeyRotation(ctx, a.rotationProgress())
		} else {
			st, err = s.KeyStatus(ctx)
		}
		if err != nil {
			return err
		}
		return a.printKeyStatus(st)
	})
	cmd.AddCommand(rotate, status)
	return cmd
}

// rotationProgress tells a person on stderr how a rotation goes: a line
// whenever its pass or phase changes.
func (a *app) rotationProgress() func(api.KeyStatus) {
	last := ""
	return func(st api.KeyStatus) {
		r := st.Rotation
		if a.quiet || a.jsonOut || r == nil {
			return
		}
		now := fmt.Sprintf("pass %d, %s", r.Pass, r.Phase)
		if now != last {
			fmt.Fprintf(a.env.Stderr, "rotating: %s (%s data keys scanned, %s rewrapped)\n", now, human.Count(r.Scanned), human.Count(r.Rewrapped))
			last = now
		}
	}
}

func (a *app) printKeyStatus(st api.KeyStatus) error {
	if a.jsonOut {
		return a.printJSON(st)
	}
	out := a.env.Stdout
	tab := a.table("KEY\tCURRENT\tDATA KEYS\tNOTE")
	for _, k := range st.Keys {
		cur, n, note := "", "-", ""
		if k.Current {
			cur = "*"
		}
		if st.ScannedAt != nil {
			n = human.Count(k.DataKeys)
		}
		switch {
		case !k.Known:
			note = "not known to the key service: these data keys cannot be read"
		case k.InFlight > 0:
			note = fmt.Sprintf("%s in flight", human.Plural(k.InFlight, "write", "writes"))
		case !k.Current && st.ScannedAt != nil && k.DataKeys == 0 && !st.RetiresKeys:
			note = "unused: drop it from --kms-previous-keys once uploads in flight have finished"
		}
		if err := tab.row(k, k.ID, cur, n, note); err != nil {
			return err
		}
	}
	if err := tab.flush(); err != nil {
		return err
	}
	if st.ScannedAt != nil {
		fmt.Fprintf(out, "\nData keys as counted by the scan that ended %s", localTime(*st.ScannedAt))
		if st.Failed > 0 {
			fmt.Fprintf(out, "; %s could not be unwrapped", human.Count(st.Failed))
		}
		fmt.Fprintln(out, ".")
	} else {
		fmt.Fprintln(out, "\nNo rotation has counted the data keys yet ('strata admin keys rotate').")
	}
	r := st.Rotation
	if r == nil {
		return nil
	}
	fmt.Fprintf(out, "Rotation %s to %s: ", r.Job.ID, r.Target)
	switch {
	case r.Job.State != api.JobRunning:
		fmt.Fprintf(out, "%s after %s", r.Job.State, human.Plural(r.Pass, "pass", "passes"))
	default:
		if !r.Running {
			fmt.Fprint(out, "stopped with its server (it resumes), ")
		}
		fmt.Fprintf(out, "pass %d, %s", r.Pass, r.Phase)
		if r.Phase == "blobs" {
			fmt.Fprintf(out, " (%d of %d prefixes)", r.Prefix, r.Prefixes)
		}
	}
	fmt.Fprintf(out, "; %s data keys scanned, %s rewrapped; started %s, updated %s.\n",
		human.Count(r.Scanned), human.Count(r.Rewrapped), localTime(r.Job.Created), localTime(r.Job.Updated))
	if len(r.Retired) > 0 {
		fmt.Fprintf(out, "Retired: %s.\n", strings.Join(r.Retired, ", "))
	}
	if len(r.Waiting) > 0 {
		fmt.Fprintf(out, "Waiting for writes in flight under %s.\n", strings.Join(r.Waiting, ", "))
	}
	if r.LastError != "" {
		fmt.Fprintf(out, "Last stopped by: %s\n", r.LastError)
	}
	if r.Job.Error != nil {
		fmt.Fprintf(out, "Failed: %s\n", r.Job.Error.Detail)
	}
	return nil
}
