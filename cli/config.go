package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/internal/version"
	"github.com/strata-storage/strata/server/client"
)

// configDir is $XDG_CONFIG_HOME/strata, or ~/.config/strata.
func (a *app) configDir() (string, error) {
	if d := a.env.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "strata"), nil
	}
	home := a.env.Getenv("HOME")
	if home == "" {
		return "", errors.New("cannot find a config directory: neither XDG_CONFIG_HOME nor HOME is set")
	}
	return filepath.Join(home, ".config", "strata"), nil
}

// dataDir is $XDG_DATA_HOME/strata, or ~/.local/share/strata.
func (a *app) dataDir() (string, error) {
	if d := a.env.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "strata"), nil
	}
	home := a.env.Getenv("HOME")
	if home == "" {
		return "", errors.New("cannot find a data directory: set --data, XDG_DATA_HOME or HOME")
	}
	return filepath.Join(home, ".local", "share", "strata"), nil
}

// loadConfigFile reads the optional settings file: a JSON object whose keys
// are flag names ({"server": "...", "data": "...", "listen": "..."}).
func (a *app) loadConfigFile(cmd *cobra.Command) error {
	path := a.config
	explicit := path != ""
	if !explicit {
		path = a.env.Getenv("STRATA_CONFIG")
		explicit = path != ""
	}
	if !explicit {
		dir, err := a.configDir()
		if err != nil {
			return nil
		}
		path = filepath.Join(dir, "config.json")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("settings file: %w", err)
	}
	raw := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("settings file %s: %w", path, err)
	}
	a.cfgFile = make(map[string]string, len(raw))
	for k, v := range raw {
		if cmd.Flags().Lookup(k) == nil && cmd.InheritedFlags().Lookup(k) == nil && !knownSetting(cmd.Root(), k) {
			return fmt.Errorf("settings file %s: unknown setting %q", path, k)
		}
		if k == "token" {
			return fmt.Errorf("settings file %s: keep tokens out of it; use 'strata login' or STRATA_TOKEN", path)
		}
		a.cfgFile[k] = fmt.Sprint(v)
	}
	return nil
}

// knownSetting reports whether any command has a flag named k, so that one
// settings file can serve every command.
func knownSetting(root *cobra.Command, k string) bool {
	found := false
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup(k) != nil || c.PersistentFlags().Lookup(k) != nil {
			found = true
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	return found
}

// profile is what 'strata login' saves.
type profile struct {
	Server string `json:"server"`
	Token  string `json:"token"`
}

func (a *app) profilePath() (string, error) {
	dir, err := a.configDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "profile.json"), nil
}

// loadProfile reads the profile; without one it is empty.
func (a *app) loadProfile() (profile, error) {
	path, err := a.profilePath()
	if err != nil {
		return profile{}, nil // no config directory: no profile either
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return profile{}, nil
	}
	if err != nil {
		return profile{}, err
	}
	var p profile
	if err := json.Unmarshal(data, &p); err != nil {
		return profile{}, fmt.Errorf("profile %s: %w", path, err)
	}
	return p, nil
}

// saveProfile writes the profile atomically, readable by the owner only: it
// holds a secret.
func (a *app) saveProfile(p profile) (string, error) {
	path, err := a.profilePath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	data, _ := json.MarshalIndent(p, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".profile-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// noServerError: no server configured, and no store in the data
// directory to fall back on.
type noServerError struct{ data string }

func (e *noServerError) Error() string {
	return fmt.Sprintf("no server configured, and no store in %s: run 'strata login --server URL' (or set STRATA_SERVER and STRATA_TOKEN) "+
		"to use a server, or 'strata serve' to create a store here", e.data)
}

// noTokenError: a server but no token for it.
type noTokenError struct{ server string }

func (e *noTokenError) Error() string {
	return fmt.Sprintf("no token for %s: set STRATA_TOKEN (or --token), or save one with 'strata login --server %s'. "+
		"To create a token, run 'strata admin token create --name NAME' on the server's machine, without --server: "+
		"it reaches the store through its data directory", e.server, e.server)
}

// client is the API client of where commands go (see connect).
func (a *app) client(ctx context.Context) (*client.Client, error) {
	c, _, err := a.connect(ctx, false)
	return c, err
}

// connect finds where commands go, in this order: the server of --server,
// STRATA_SERVER or the settings file; the data directory of --data,
// STRATA_DATA or the settings file; the profile saved by 'strata login';
// the default data directory. A data directory is reached through the
// socket of the process that owns it or, when none does, by opening it in
// this process until the command ends (see localStore); only createLocal
// (the file manager's local mode) creates a store that does not exist yet.
// where describes the target for people.
func (a *app) connect(ctx context.Context, createLocal bool) (c *client.Client, where string, err error) {
	server, token := a.server, a.token
	if server == "" && a.data == "" {
		p, err := a.loadProfile()
		if err != nil {
			return nil, "", err
		}
		server = p.Server
		if token == "" {
			token = p.Token
		}
	} else if server != "" && token == "" {
		// A profile's token belongs to its server only.
		if p, err := a.loadProfile(); err == nil && strings.TrimSuffix(p.Server, "/") == strings.TrimSuffix(server, "/") {
			token = p.Token
		}
	}
	if server != "" {
		if token == "" {
			// Checked first: a malformed address is the clearer error.
			if _, err := client.New(server, ""); err != nil {
				return nil, "", err
			}
			return nil, "", &noTokenError{server}
		}
		c, err := a.newClient(server, token)
		if err != nil {
			return nil, "", err
		}
		return c, c.Server(), nil
	}
	data := a.data
	if data == "" {
		if data, err = a.dataDir(); err != nil {
			return nil, "", err
		}
	}
	if !createLocal && !embedded.Exists(data) {
		return nil, "", &noServerError{data}
	}
	c, stop, err := a.localStore(ctx, data)
	if err != nil {
		return nil, "", err
	}
	a.cleanups = append(a.cleanups, stop)
	return c, "local " + data, nil
}

// newClient is a client of a server with the CLI's settings (user agent,
// --ca-cert).
func (a *app) newClient(server, token string) (*client.Client, error) {
	opts := []client.Option{client.WithUserAgent("strata-cli/" + version.String()), client.WithWaitNotice(a.noticeWait)}
	if a.caCert != "" {
		pem, err := os.ReadFile(a.caCert)
		if err != nil {
			return nil, usagef("--ca-cert: %v", err)
		}
		// Added to the system's pool: the same client may reach servers
		// with public certificates too (a proxy, a load balancer).
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--ca-cert %s: no PEM certificate in it", a.caCert)
		}
		opts = append(opts, client.WithRootCAs(pool))
	}
	return client.New(server, token, opts...)
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.env.Stdout)
	return enc.Encode(v)
}
