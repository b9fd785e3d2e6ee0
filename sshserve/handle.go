package sshserve

import (
	"bufio"
	"fmt"

	"github.com/charmbracelet/ssh"

	"github.com/strata-storage/strata/backend/iam"
)

// handle serves a session that asked for a shell or a command: the file
// manager, or scp. Anything else is refused with what is served here.
func (s *Server) handle(sess ssh.Session) {
	if ssh.AgentRequested(sess) {
		fmt.Fprint(sess.Stderr(), "strata: agent forwarding is refused: nothing here uses your keys\r\n")
	}
	cmd := sess.Command()
	switch {
	case len(cmd) == 0:
		s.fileManager(sess)
	case cmd[0] == "scp":
		s.scp(sess, cmd)
	default:
		wishFatal(sess, fmt.Errorf("no commands or shells here (%q): ssh -p PORT %s@HOST opens the file manager; sftp and scp copy files", clipLine(sess.RawCommand()), sess.User()))
	}
}

// scp runs the legacy scp protocol (scp -O) for the session.
func (s *Server) scp(sess ssh.Session, args []string) {
	cmd, err := parseSCP(args)
	if err != nil {
		wishFatal(sess, err)
		return
	}
	s.withSession(sess, iam.ViaSSH, func(se *session) {
		ctx := sess.Context()
		u, err := se.client.Whoami(ctx)
		if err != nil {
			wishFatal(sess, err)
			return
		}
		sc := &scpSession{ctx: ctx, c: se.client, home: u.Home, in: bufio.NewReaderSize(sess, 64<<10), out: sess, preserve: cmd.preserve}
		if cmd.sink {
			err = sc.sink(cmd)
		} else {
			err = sc.source(cmd)
		}
		if err != nil {
			s.log.Info("scp ended", "user", se.user.Name, "err", err)
			_ = sess.Exit(1)
			return
		}
		_ = sess.Exit(0)
	})
}

// wishFatal tells the client why and ends the session with status 1.
func wishFatal(sess ssh.Session, err error) {
	fmt.Fprintf(sess.Stderr(), "strata: %s\r\n", oneLine(errMessage(err)))
	_ = sess.Exit(1)
}
