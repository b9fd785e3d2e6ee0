package identity

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/clip"
)

// SSH public keys are credentials of their user, like tokens: the SSH
// server (sshserve) finds the user of a key by its SHA-256 fingerprint. A
// key belongs to one user; a user may have several. Managing them is
// strata:ManageTokens on strata:token/<user>/<fingerprint>, the action of
// the credentials a user signs in with, so the built-in home policy lets
// every user manage their own.

// SSHKey is a public key a user logs in with over SSH.
type SSHKey struct {
	// Fingerprint is OpenSSH's: SHA256:<unpadded base64>.
	Fingerprint string    `json:"fingerprint"`
	Type        string    `json:"type"`
	Comment     string    `json:"comment,omitempty"`
	User        string    `json:"user"`
	Created     time.Time `json:"created"`
	// Key is the public key in authorized_keys form (without comment).
	Key string `json:"key"`
}

// Records of SSH keys: the index from fingerprint to user, and one item
// per key under its user (to list, and to delete with the user).
const (
	skSSHIndex   = "sshkey"
	sshPrefix    = "ssh#"
	maxSSHKeys   = 100 // per user
	maxSSHKeyLen = 16 << 10
)

func sshIndexPK(fp string) string { return "sshkey#" + fp }
func sshSK(fp string) string      { return sshPrefix + fp }

// sshIndexRec is the item at (sshkey#<fingerprint>, sshkey).
type sshIndexRec struct {
	UserID string `json:"u"`
	Key    []byte `json:"k"` // wire form, compared on login
}

// sshRefRec is the item at (user#<id>, ssh#<fingerprint>).
type sshRefRec struct {
	Key     string `json:"k"` // authorized_keys form
	Comment string `json:"cm,omitempty"`
	Created int64  `json:"c"`
}

// ParseSSHKey reads one OpenSSH public key (a line of authorized_keys or a
// .pub file; options are refused: they would say more than Strata does).
func ParseSSHKey(line []byte) (ssh.PublicKey, string, error) {
	if len(line) > maxSSHKeyLen {
		return nil, "", fmt.Errorf("%w: an SSH public key is at most %d bytes", errs.ErrInvalid, maxSSHKeyLen)
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, "", fmt.Errorf("%w: no SSH public key given (an OpenSSH public key: ssh-ed25519 AAAA... comment)", errs.ErrInvalid)
	}
	key, comment, opts, rest, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		return nil, "", fmt.Errorf("%w: not an OpenSSH public key (ssh-ed25519 AAAA... comment): %v", errs.ErrInvalid, err)
	}
	if len(opts) > 0 {
		return nil, "", fmt.Errorf("%w: authorized_keys options (%s) are not taken: give the key alone", errs.ErrInvalid, clip.Text(strings.Join(opts, ",")))
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, "", fmt.Errorf("%w: one SSH public key at a time", errs.ErrInvalid)
	}
	if _, ok := key.(ssh.CryptoPublicKey); !ok {
		return nil, "", fmt.Errorf("%w: %s keys are not taken (certificates and security keys are not supported yet)", errs.ErrInvalid, key.Type())
	}
	return key, clip.Text(comment), nil
}

func sshKeyOf(user, fp string, ref sshRefRec) SSHKey {
	typ, _, _ := strings.Cut(ref.Key, " ")
	return SSHKey{Fingerprint: fp, Type: typ, Comment: ref.Comment, User: user, Created: record.FromNanos(ref.Created), Key: ref.Key}
}

// AddSSHKey gives user ("" for pr itself) the public key line (an OpenSSH
// public key): logging in over SSH with its private key logs in as them.
// A key already someone else's is refused.
func (s *Service) AddSSHKey(ctx context.Context, pr iam.Principal, user string, line []byte) (SSHKey, error) {
	key, comment, err := ParseSSHKey(line)
	if err != nil {
		return SSHKey{}, err
	}
	fp := ssh.FingerprintSHA256(key)
	u, err := s.tokenOwner(ctx, pr, user, fp)
	if err != nil {
		return SSHKey{}, err
	}
	n := 0
	if err := s.eachOfUser(ctx, u.ID, sshPrefix, func(meta.Item) error { n++; return nil }); err != nil {
		return SSHKey{}, err
	}
	if n >= maxSSHKeys {
		return SSHKey{}, fmt.Errorf("%w: a user has at most %d SSH keys (remove one first)", errs.ErrInvalid, maxSSHKeys)
	}
	now := s.now()
	ref := sshRefRec{Key: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))), Comment: comment, Created: record.Nanos(now)}
	if err := s.addMapping(ctx, mapping{what: "SSH key", key: fp, pk: sshIndexPK(fp), sk: skSSHIndex,
		index: sshIndexRec{UserID: u.ID, Key: key.Marshal()}, userID: u.ID, userName: u.Name,
		ref: record.Item(userPK(u.ID), sshSK(fp), ref)}); err != nil {
		return SSHKey{}, err
	}
	return sshKeyOf(u.Name, fp, ref), nil
}

// ListSSHKeys lists the SSH keys of user ("" for pr itself).
func (s *Service) ListSSHKeys(ctx context.Context, pr iam.Principal, user string) ([]SSHKey, error) {
	u, err := s.tokenOwner(ctx, pr, user, "*")
	if err != nil {
		return nil, err
	}
	out := []SSHKey{}
	err = s.eachOfUser(ctx, u.ID, sshPrefix, func(it meta.Item) error {
		ref, err := record.Decode[sshRefRec](it)
		if err != nil {
			return err
		}
		out = append(out, sshKeyOf(u.Name, strings.TrimPrefix(it.SK, sshPrefix), ref))
		return nil
	})
	return out, err
}

// RemoveSSHKey removes the SSH key of user ("" for pr itself) with the
// fingerprint fp (SHA256:...).
func (s *Service) RemoveSSHKey(ctx context.Context, pr iam.Principal, user, fp string) error {
	if !strings.HasPrefix(fp, "SHA256:") || len(fp) > 64 {
		return fmt.Errorf("%w: %q is not an SSH key fingerprint (SHA256:..., as 'strata keys ls' shows)", errs.ErrInvalid, clip.Text(fp))
	}
	u, err := s.tokenOwner(ctx, pr, user, fp)
	if err != nil {
		return err
	}
	_, ref, err := record.Get[sshRefRec](ctx, s.meta, userPK(u.ID), sshSK(fp))
	if record.IsNotFound(err) {
		return fmt.Errorf("SSH key %s of %s: %w", fp, u.Name, errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return s.dropSSH(ctx, u.ID, ref)
}

// dropSSH deletes a key: the reference under the user, and the index if
// it still points to them.
func (s *Service) dropSSH(ctx context.Context, userID string, ref meta.Item) error {
	return s.dropMapping(ctx, "SSH key", userID, ref, sshIndexPK(strings.TrimPrefix(ref.SK, sshPrefix)), skSSHIndex)
}

// SSHUser is who logs in with an SSH key or password: a user, not yet a
// session (SessionToken makes one).
type SSHUser struct {
	ID, Name string
}

// AuthenticateSSHKey finds the user whose key key is. An unknown key, or
// one of a deleted user, is ErrUnauthorized.
func (s *Service) AuthenticateSSHKey(ctx context.Context, key ssh.PublicKey) (SSHUser, error) {
	ix, _, err := record.Get[sshIndexRec](ctx, s.meta, sshIndexPK(ssh.FingerprintSHA256(key)), skSSHIndex)
	if record.IsNotFound(err) {
		return SSHUser{}, errs.ErrUnauthorized
	}
	if err != nil {
		return SSHUser{}, err
	}
	// Found by the hash of the key; the whole key is compared too.
	if subtle.ConstantTimeCompare(ix.Key, key.Marshal()) != 1 {
		return SSHUser{}, errs.ErrUnauthorized
	}
	u, _, err := record.Get[userRec](ctx, s.meta, userPK(ix.UserID), skProfile)
	if record.IsNotFound(err) {
		return SSHUser{}, errs.ErrUnauthorized
	}
	if err != nil {
		return SSHUser{}, err
	}
	return SSHUser{ID: ix.UserID, Name: u.Name}, nil
}

// AuthenticatePassword checks a user's name and password, for an entry
// point that logs in by password without a token of its own (SSH). A
// wrong name or password is ErrUnauthorized, in the same time.
func (s *Service) AuthenticatePassword(ctx context.Context, user, password string) (SSHUser, error) {
	id, err := s.checkLogin(ctx, user, password)
	if err != nil {
		return SSHUser{}, err
	}
	return SSHUser{ID: id, Name: user}, nil
}

// SessionToken mints a token for u that works only through the entry
// point via (iam.ViaSSH, iam.ViaSFTP) and for at most ttl: the token of
// one SSH session, which acts through the API like every other client.
// It is not reachable over the API; EndSession revokes it.
func (s *Service) SessionToken(ctx context.Context, u SSHUser, via string, ttl time.Duration) (Token, error) {
	if via == "" || via == iam.ViaHTTP {
		return Token{}, fmt.Errorf("%w: a session token is bound to an entry point other than the network API", errs.ErrInvalid)
	}
	return s.addToken(ctx, u.ID, u.Name, via+" session", NewToken(), ttl, "", via)
}

// EndSession revokes a token minted by SessionToken. Only this server
// forgets it, without moving the counter every server reads (PolicyTTL):
// a session's token is used only by the server that minted it, over its
// in-memory connections, and an SSH session ends far more often than
// anything else changes.
func (s *Service) EndSession(ctx context.Context, t Token) error {
	u, err := s.lookupUser(ctx, t.User)
	if err != nil {
		return err
	}
	return s.revoke(ctx, u.ID, t.ID, false)
}
