package external

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// bin makes a folder of fake programs to serve as $PATH.
func bin(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFind(t *testing.T) {
	for _, c := range []struct {
		name string
		kind Kind
		env  map[string]string
		path []string
		want []string
		err  string
	}{
		{"pager var with args", Pager, map[string]string{"PAGER": "most -s"}, []string{"most", "less"}, []string{"most", "-s"}, ""},
		{"pager less", Pager, nil, []string{"less", "more"}, []string{"less"}, ""},
		{"pager more", Pager, nil, []string{"more"}, []string{"more"}, ""},
		{"pager none", Pager, nil, nil, nil, "no pager found: set $PAGER (less and more are not installed)"},
		{"pager missing", Pager, map[string]string{"PAGER": "nope"}, []string{"less"}, nil, `$PAGER is "nope", which cannot be run`},
		{"visual first", Editor, map[string]string{"VISUAL": "hx", "EDITOR": "ed"}, []string{"hx", "ed"}, []string{"hx"}, ""},
		{"editor", Editor, map[string]string{"EDITOR": "ed"}, []string{"ed", "vi"}, []string{"ed"}, ""},
		{"vi", Editor, nil, []string{"vi", "nano"}, []string{"vi"}, ""},
		{"nano", Editor, nil, []string{"nano"}, []string{"nano"}, ""},
		{"editor none", Editor, map[string]string{"EDITOR": "  "}, nil, nil, "no editor found: set $EDITOR (vi and nano are not installed)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range []string{"PAGER", "VISUAL", "EDITOR"} {
				t.Setenv(v, c.env[v])
			}
			t.Setenv("PATH", bin(t, c.path...))
			got, err := Find(c.kind)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, %v; want error %q", got, err, c.err)
				}
				if c.env == nil && !errors.Is(err, ErrNone) {
					t.Errorf("%v is not ErrNone", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	argv := []string{"less", "-R"}
	cmd := Command(argv, "/tmp/a b.txt")
	if !reflect.DeepEqual(cmd.Args, []string{"less", "-R", "/tmp/a b.txt"}) {
		t.Errorf("args %q", cmd.Args)
	}
	if len(argv) != 2 {
		t.Error("argv changed")
	}
}
