package sshserve

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"
)

// What a connection is encrypted with is the first cipher of the CLIENT's
// list that the server offers (RFC 4253 7.1), so the server steers only by
// what it offers. OpenSSH asks for chacha20-poly1305 first, then the AES
// CTR ciphers, then AES-GCM. Go has no assembly for ChaCha20 on amd64
// (golang.org/x/crypto/chacha20 is generic code there), while its AES-GCM
// and AES-CTR use the CPU's AES instructions: where the CPU has them,
// ChaCha20 costs the server several times the CPU of AES-GCM for every
// byte moved, and SFTP over it runs at a fraction of the API's speed.

// OpenSSH lists AES-CTR before AES-GCM, so with both offered it takes
// CTR, whose MAC (HMAC-SHA-256) costs each side about as much again as the
// cipher: SFTP over CTR moved a GiB with a quarter more CPU on both ends
// than over GCM. OpenSSH has had AES-GCM since 6.2 (2013), so where the
// server picks its offer by itself, it offers an OpenSSH client (known by
// its identification string, sent before the offers) AES-GCM alone, and
// every other client the whole list: older PuTTY, WinSCP, paramiko and
// libssh2 know no GCM, and still get in.

// sshMACs are the MACs offered for the CTR ciphers (the AEAD ones carry
// their own): SHA-2 only, encrypt-then-MAC first.
var sshMACs = []string{
	gossh.HMACSHA256ETM, gossh.HMACSHA512ETM, gossh.HMACSHA256, gossh.HMACSHA512,
}

// DefaultCiphers is what the server offers when it is not told: on a CPU
// with AES instructions (and carry-less multiplication, for GCM), the AES
// ciphers only, GCM first; elsewhere ChaCha20-Poly1305 first, which is
// faster than AES without them and, unlike Go's AES there, constant-time.
func DefaultCiphers() []string {
	if aesHardware() {
		return []string{
			gossh.CipherAES128GCM, gossh.CipherAES256GCM,
			gossh.CipherAES128CTR, gossh.CipherAES192CTR, gossh.CipherAES256CTR,
		}
	}
	return []string{
		gossh.CipherChaCha20Poly1305,
		gossh.CipherAES128GCM, gossh.CipherAES256GCM,
		gossh.CipherAES128CTR, gossh.CipherAES192CTR, gossh.CipherAES256CTR,
	}
}

// offerFor is what a client with identification string ident is offered
// of list: its AES-GCM ciphers alone if the client is an OpenSSH that
// knows them (and list has some), else all of it. A copy, each time.
func offerFor(ident string, list []string) []string {
	gcm := slices.DeleteFunc(slices.Clone(list), func(c string) bool {
		return c != gossh.CipherAES128GCM && c != gossh.CipherAES256GCM
	})
	if knowsGCM(ident) && len(gcm) > 0 {
		return gcm
	}
	return slices.Clone(list)
}

// knowsGCM says whether a client's identification string (RFC 4253 4.2)
// is that of OpenSSH 6.2 or later, which knows AES-GCM (unless built
// without OpenSSL: --ssh-ciphers serves such a client).
func knowsGCM(ident string) bool {
	v, ok := strings.CutPrefix(ident, "SSH-2.0-OpenSSH_")
	if !ok {
		return false
	}
	v = strings.TrimPrefix(v, "for_Windows_")
	major, rest, _ := strings.Cut(v, ".")
	minor := strings.TrimLeft(rest, "0123456789")
	minor = rest[:len(rest)-len(minor)]
	maj, err1 := strconv.Atoi(major)
	mnr, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return false
	}
	return maj > 6 || maj == 6 && mnr >= 2
}

// aesHardware says whether Go's AES-GCM runs on AES instructions here.
func aesHardware() bool {
	switch runtime.GOARCH {
	case "amd64":
		return cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ
	case "arm64":
		return cpu.ARM64.HasAES && cpu.ARM64.HasPMULL
	case "s390x":
		return cpu.S390X.HasAES && cpu.S390X.HasAESGCM
	}
	return false
}

// CheckCiphers refuses a list with a cipher Go's SSH does not implement
// or considers insecure (CBC, 3DES, RC4), or with none at all.
func CheckCiphers(list []string) error {
	if len(list) == 0 {
		return fmt.Errorf("no ciphers: name one or more of %s", strings.Join(gossh.SupportedAlgorithms().Ciphers, ", "))
	}
	ok := gossh.SupportedAlgorithms().Ciphers
	for _, c := range list {
		if !slices.Contains(ok, c) {
			return fmt.Errorf("cipher %q is not offered here: choose from %s", c, strings.Join(ok, ", "))
		}
	}
	return nil
}
