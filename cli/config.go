package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/version"
	"github.com/strata-storage/strata/server/client"
)

// errNoCredentials: no server or token configured anywhere.
var errNoCredentials = errors.New("no server configured: run 'strata login', or set STRATA_SERVER and STRATA_TOKEN")

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

func (a *app) loadProfile() (profile, error) {
	path, err := a.profilePath()
	if err != nil {
		return profile{}, err
	}
	data, err := os.ReadFile(path)
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

// client builds the API client from flags, environment, settings file and
// profile, in that order.
func (a *app) client() (*client.Client, error) {
	server, token := a.server, a.token
	if server == "" || token == "" {
		if p, err := a.loadProfile(); err == nil {
			if server == "" {
				server = p.Server
			}
			// A profile's token belongs to its server only.
			if token == "" && strings.TrimSuffix(p.Server, "/") == strings.TrimSuffix(server, "/") {
				token = p.Token
			}
		}
	}
	if server == "" {
		return nil, errNoCredentials
	}
	if token == "" {
		return nil, fmt.Errorf("%w (no token for %s)", errNoCredentials, server)
	}
	return client.New(server, token, client.WithUserAgent("strata-cli/"+version.String()))
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.env.Stdout)
	return enc.Encode(v)
}
