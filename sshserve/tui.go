package sshserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/shell"
	"github.com/strata-storage/strata/tui"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
	"github.com/strata-storage/strata/tui/transfer"
)

// fileManager runs the file manager for the session: a bubbletea program
// of its own, drawn with a renderer of its own (the client's terminal and
// colours, not the server's), both panes on Strata.
func (s *Server) fileManager(sess ssh.Session) {
	pty, winch, ok := sess.Pty()
	if !ok {
		wishFatal(sess, fmt.Errorf("the file manager needs a terminal (ssh -t -p PORT %s@HOST); copy files with sftp or scp", sess.User()))
		return
	}
	s.withSession(sess, iam.ViaSSH, func(se *session) {
		ctx, cancel := context.WithCancel(sess.Context())
		defer cancel()
		r := remote.NewClient(se.client)
		// Nothing is transferred to or from a local disk here; the manager
		// has no state file and stays empty.
		mgr, err := transfer.New(r, transfer.Options{})
		if err != nil {
			wishFatal(sess, err)
			return
		}
		defer mgr.Close()
		app := tui.New(tui.Options{
			Remote: r, Where: "ssh", Transfers: mgr, Ctx: ctx,
			Styles:     style.New(sessionRenderer(sess, pty.Term)),
			RemoteOnly: true,
			Commands:   s.commands(se.user.Name),
			CopyOut:    s.copyOut(se.user.Name),
			Clipboard: func(text string) error {
				_, err := osc52.New(text).WriteTo(sess)
				return err
			},
		})
		p := tea.NewProgram(app, tea.WithInput(sess), tea.WithOutput(sess), tea.WithAltScreen(),
			tea.WithMouseCellMotion(), tea.WithContext(ctx))
		var told struct {
			sync.Mutex
			msg string
		}
		se.setNotify(func(msg string) {
			told.Lock()
			told.msg = msg
			told.Unlock()
			p.Quit()
		})
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case w, ok := <-winch:
					if !ok {
						return
					}
					p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
				}
			}
		}()
		m, err := p.Run()
		if a, ok := m.(tui.App); ok {
			a.Cleanup()
		}
		told.Lock()
		msg := told.msg
		told.Unlock()
		switch {
		case msg != "":
			fmt.Fprintf(sess.Stderr(), "strata: %s\r\n", msg)
			_ = sess.Exit(1)
		case err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled):
			s.log.Warn("file manager", "user", se.user.Name, "err", err)
			_ = sess.Exit(1)
		default:
			_ = sess.Exit(0)
		}
	})
}

// sessionRenderer draws for the client's terminal: its TERM and
// COLORTERM, and NO_COLOR when the client sends it (OpenSSH sends what
// SendEnv names; termenv reads them from the session's environment). It
// asks the terminal nothing, so the first frame waits for no answer.
func sessionRenderer(sess ssh.Session, term string) *lipgloss.Renderer {
	env := environ(append(sess.Environ(), "TERM="+term))
	return lipgloss.NewRenderer(sess, termenv.WithEnvironment(env), termenv.WithUnsafe(), termenv.WithColorCache(true))
}

// environ is a session's environment for termenv.
type environ []string

func (e environ) Environ() []string { return e }
func (e environ) Getenv(k string) string {
	v, _ := lookupEnv(e, k)
	return v
}

func lookupEnv(env []string, k string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], k+"="); ok {
			return v, true
		}
	}
	return "", false
}

// commands is how user copies files in and out of a folder from their own
// machine: sftp opens in the folder (get, put), and scp takes the same
// user@host:folder/.
func (s *Server) commands(user string) func(dir string) string {
	host, flag := s.publicHost()
	return func(dir string) string {
		return "sftp " + flag + shell.Quote(user+"@"+host+":"+dir)
	}
}

// copyOut is the scp command that copies paths (folders too when
// recursive) into the user's current folder on their machine.
func (s *Server) copyOut(user string) func(paths []string, recursive bool) string {
	host, flag := s.publicHost()
	return func(paths []string, recursive bool) string {
		var b strings.Builder
		b.WriteString("scp ")
		if recursive {
			b.WriteString("-r ")
		}
		b.WriteString(flag)
		for _, p := range paths {
			b.WriteString(shell.Quote(user+"@"+host+":"+p) + " ")
		}
		b.WriteString(".")
		return b.String()
	}
}

// publicHost is the host users reach the server by, as scp and sftp take
// it, and the port flag they need ("" for 22).
func (s *Server) publicHost() (host, portFlag string) {
	s.mu.Lock()
	public := s.cfg.Public
	if public == "" {
		public = s.addr
	}
	s.mu.Unlock()
	host, port, err := net.SplitHostPort(public)
	if err != nil {
		host, port = public, "22"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "22" {
		portFlag = "-P " + port + " "
	}
	return host, portFlag
}
