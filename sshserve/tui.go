package sshserve

import (
	"errors"

	"github.com/charmbracelet/ssh"
)

// fileManager runs the file manager for the session.
func (s *Server) fileManager(sess ssh.Session) {
	wishFatal(sess, errors.New("the file manager is not served over SSH yet: copy files with sftp or scp"))
}
