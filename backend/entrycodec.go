package backend

import (
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/jsonlit"
)

// decodeEntryRec reads an entry record as record.Decode does, faster: a
// listing decodes one per entry, and encoding/json was half of a page's
// time on the server. The stored format is unchanged (JSON written by
// record.Encode); readEntryRec takes the records it writes for plain
// entries and leaves anything else (a quota, an archive state, escapes,
// keys in another case) to encoding/json, so both read every record alike.
func decodeEntryRec(it meta.Item) (entryRec, error) {
	if r, ok := readEntryRec(it.Value); ok {
		return r, nil
	}
	return record.Decode[entryRec](it)
}

// readEntryRec parses v when it is an object of only entryRec's plain
// keys, spelt exactly, with string values of printable ASCII without
// escapes and integer values, and no spaces: what encoding/json writes
// for an entry without a quota or an archive state. ok is false for
// anything else, which encoding/json then decides. Its strings share one
// allocation, a copy of v.
func readEntryRec(v []byte) (r entryRec, ok bool) {
	if len(v) < 2 || v[0] != '{' {
		return r, false
	}
	s := string(v)
	i := 1
	if s[i] == '}' {
		return r, len(s) == 2
	}
	for {
		var key string
		if key, i, ok = plainString(s, i); !ok || i >= len(s) || s[i] != ':' {
			return r, false
		}
		i++
		switch key {
		case "id":
			r.ID, i, ok = plainString(s, i)
		case "k":
			var k string
			k, i, ok = plainString(s, i)
			r.Kind = Kind(k)
		case "h":
			r.SHA256, i, ok = plainString(s, i)
		case "cd":
			r.ClientDigest, i, ok = jsonlit.Bool(s, i)
		case "cdb":
			r.By, i, ok = plainString(s, i)
		case "b":
			r.Blob, i, ok = plainString(s, i)
		case "c":
			r.Created, i, ok = jsonlit.Int(s, i)
		case "m":
			r.MTime, i, ok = jsonlit.Int(s, i)
		case "s":
			r.Size, i, ok = jsonlit.Int(s, i)
		case "v":
			r.Seq, i, ok = jsonlit.Int(s, i)
		case "f":
			r.First, i, ok = jsonlit.Int(s, i)
		default:
			return r, false
		}
		if !ok || i >= len(s) {
			return r, false
		}
		switch s[i] {
		case ',':
			i++
		case '}':
			return r, i+1 == len(s)
		default:
			return r, false
		}
	}
}

// plainString reads the JSON string at s[i] when it holds only printable
// ASCII and no escapes (its value is then its text), and returns the index
// after it.
func plainString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c < 0x20 || c == '\\' || c >= 0x7f:
			return "", i, false
		}
	}
	return "", i, false
}
