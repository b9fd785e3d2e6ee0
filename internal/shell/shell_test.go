package shell

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "''",
		"/srv/strata":            "/srv/strata",
		"s3://bucket/prefix":     "s3://bucket/prefix",
		"/home/ann/my data":      "'/home/ann/my data'",
		"it's":                   `'it'\''s'`,
		"$HOME":                  "'$HOME'",
		"a;rm -rf /":             "'a;rm -rf /'",
		"https://x.example:8420": "https://x.example:8420",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
