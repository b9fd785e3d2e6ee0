package cli

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/awscreds"
	"github.com/strata-storage/strata/server/client"
)

// usageError marks a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// localNotFound is a local file or folder that is not there; it matches
// fs.ErrNotExist without repeating its text.
type localNotFound struct{ msg string }

func (e *localNotFound) Error() string        { return e.msg }
func (e *localNotFound) Is(target error) bool { return target == fs.ErrNotExist }

// interruptedError is a command cut short by Ctrl-C or SIGTERM.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string {
	return "interrupted; run the same command again to resume an upload or download"
}
func (e *interruptedError) Unwrap() error { return e.err }

// isCobraUsage recognises cobra's and pflag's own command-line errors, which
// are plain strings.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires at most", "required flag"} {
		if strings.HasPrefix(s, p) || strings.Contains(s, " "+p) {
			return true
		}
	}
	return false
}

func isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue) || isCobraUsage(err) || errors.Is(err, client.ErrInvalid)
}

// exitCode is the process exit code for err (see README.md).
func exitCode(err error) int {
	var ie *interruptedError
	var ns *noServerError
	var nt *noTokenError
	var ac *awscreds.NoCredentialsError
	switch {
	case errors.As(err, &ie):
		return ExitInterrupted
	case isUsage(err):
		return ExitUsage
	case errors.Is(err, client.ErrNotFound), errors.Is(err, os.ErrNotExist):
		return ExitNotFound
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden), errors.As(err, &ns), errors.As(err, &nt),
		errors.As(err, &ac):
		return ExitAuth
	case errors.Is(err, client.ErrExists), errors.Is(err, client.ErrConflict), errors.Is(err, client.ErrPrecondition),
		errors.Is(err, client.ErrNotEmpty), errors.Is(err, client.ErrIsDir), errors.Is(err, client.ErrNotDir):
		return ExitConflict
	case errors.Is(err, client.ErrDigestMismatch), errors.Is(err, client.ErrIntegrity):
		return ExitIntegrity
	case errors.Is(err, client.ErrUnavailable):
		return ExitUnavailable
	case errors.Is(err, client.ErrNoSpace), errors.Is(err, client.ErrQuotaExceeded):
		return ExitNoSpace
	}
	return ExitError
}

// errorCode is the machine code of err for --json: the server's problem
// code when the server answered, else the CLI's own (README.md lists
// them).
func errorCode(err error, exit int) string {
	var ae *client.Error
	if errors.As(err, &ae) && ae.Code != "" {
		return ae.Code
	}
	var ns *noServerError
	var nt *noTokenError
	var ac *awscreds.NoCredentialsError
	switch {
	case errors.As(err, &ns):
		return "no_server"
	case errors.As(err, &ac):
		return "no_aws_credentials"
	case errors.As(err, &nt):
		return "no_token"
	case errors.Is(err, client.ErrCertificate):
		return "certificate"
	case errors.Is(err, client.ErrInvalid):
		return "invalid_request"
	case errors.Is(err, client.ErrDigestMismatch):
		return "digest_mismatch"
	}
	switch exit {
	case ExitUsage:
		return "usage"
	case ExitNotFound:
		return "not_found"
	case ExitAuth:
		return "unauthorized"
	case ExitConflict:
		return "conflict"
	case ExitIntegrity:
		return "integrity_error"
	case ExitUnavailable:
		return "unreachable"
	case ExitNoSpace:
		return "insufficient_storage"
	case ExitInterrupted:
		return "interrupted"
	}
	return "error"
}

// jsonError is what --json prints on standard error for a failure, one
// object per line.
type jsonError struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Exit      int    `json:"exit"`
		Status    int    `json:"status,omitempty"`     // the server's HTTP status
		RequestID string `json:"request_id,omitempty"` // the server's request ID
	} `json:"error"`
}

// printError reports err on standard error (plain, or one JSON object with
// --json) and returns its exit code. cmd is the command that failed, for
// the usage hint; it may be nil.
func (a *app) printError(cmd *cobra.Command, err error) int {
	code := exitCode(err)
	msg := err.Error()
	if h := hint(err); h != "" {
		msg += "; " + h
	}
	if a.jsonOut {
		var je jsonError
		je.Error.Code, je.Error.Message, je.Error.Exit = errorCode(err, code), msg, code
		var ae *client.Error
		if errors.As(err, &ae) {
			je.Error.Status, je.Error.RequestID = ae.Status, ae.RequestID
			// The code and request ID have fields of their own.
			je.Error.Message = strings.Replace(msg, ae.Error(), ae.Message(), 1)
		}
		b, _ := json.Marshal(je)
		fmt.Fprintf(a.env.Stderr, "%s\n", b)
		return code
	}
	fmt.Fprintf(a.env.Stderr, "strata: %s\n", msg)
	if code == ExitUsage && cmd != nil && !errors.Is(err, client.ErrInvalid) {
		if isCobraUsage(err) && cmd.Runnable() {
			fmt.Fprintf(a.env.Stderr, "Usage: %s\n", cmd.UseLine())
		}
		fmt.Fprintf(a.env.Stderr, "Run '%s --help' for more.\n", cmd.CommandPath())
	}
	return code
}

// about prefixes err with the name of what it is about, unless its
// message names it already (the server's messages name the path).
func about(name string, err error) error {
	if strings.Contains(err.Error(), name) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// hint says what to do about err, when the error alone does not.
func hint(err error) string {
	var ae *client.Error
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(ae.Detail, "HTTPS server") {
		return "the server serves HTTPS: use an https:// address"
	}
	if errors.Is(err, client.ErrQuotaExceeded) {
		return "'strata usage' shows what counts; files in the trash count too, and 'strata trash empty' gives their space back"
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	cert := client.CertificateProblem(err)
	switch {
	case cert == nil:
		return ""
	case errors.As(cert, &ua):
		return "if the server has a self-signed certificate or one from a private CA, trust that CA with --ca-cert FILE (or STRATA_CA_CERT)"
	case errors.As(cert, &he):
		return "use an address with a name the certificate is for"
	case errors.As(cert, &ci) && ci.Reason == x509.Expired:
		return "check the server's certificate dates, and the clocks"
	}
	return ""
}

// wantsJSON reports whether the command line or the environment asks for
// --json, for errors found before the flags were read.
func wantsJSON(args []string, getenv func(string) string) bool {
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if v, ok := strings.CutPrefix(arg, "--json"); ok && (v == "" || v[0] == '=') {
			b, err := strconv.ParseBool(strings.TrimPrefix(v, "="))
			return v == "" || (err == nil && b)
		}
	}
	b, err := strconv.ParseBool(getenv("STRATA_JSON"))
	return err == nil && b
}
