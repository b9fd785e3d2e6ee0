package api

import "time"

// SSHKey is a public key a user logs in with over SSH (strata serve --ssh).
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

// AddSSHKeyRequest is the body of POST /v1/keys.
type AddSSHKeyRequest struct {
	// User is whose key it becomes ("" for oneself).
	User string `json:"user,omitempty"`
	// Key is an OpenSSH public key: "ssh-ed25519 AAAA... comment".
	Key string `json:"key"`
}
