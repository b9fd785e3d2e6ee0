package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/server/api"
)

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// readJSON decodes a JSON request body strictly: the right content type, at
// most the configured size, one object with no unknown or repeated keys
// (names match exactly, not in any case), nothing after it. Its errors say
// what is wrong in the API's words, never in Go's, and quote little of the
// input.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problemf(http.StatusUnsupportedMediaType, api.CodeInvalidRequest, "Content-Type must be application/json")
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxJSONBody)
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("reading body: %v", err)
	}
	if err := checkKeys(data, jsonFields(v)); err != nil {
		return invalidJSON("%s", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidJSON("%s", describeJSONError(err))
	}
	if dec.More() {
		return invalidJSON("data after the value")
	}
	return nil
}

func invalidJSON(format string, args ...any) *problem {
	return problemf(http.StatusBadRequest, api.CodeInvalidJSON, "invalid JSON body: "+format, args...)
}

// jsonFields is the set of exact key names the struct v points to takes.
func jsonFields(v any) map[string]bool {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "":
			out[f.Name] = true
		default:
			out[name] = true
		}
	}
	return out
}

// checkKeys refuses an object that has a key twice, at any depth, and a
// top-level key that is not exactly one of fields (when fields is set).
// encoding/json would keep the last of two equal keys and match names in
// any case, so that two readers of one body (a proxy that checks it, the
// server that acts on it) could see two different requests. Keys that
// differ only in case count as the same. Malformed JSON passes: the
// decoder reports it.
func checkKeys(data []byte, fields map[string]bool) error {
	type frame struct {
		obj     bool
		wantKey bool
		keys    map[string]bool
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or malformed: Decode says which
		}
		d, isDelim := tok.(json.Delim)
		if isDelim && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			valueDone()
			if len(stack) == 0 {
				return nil // only the first value counts; Decode refuses more
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			k, _ := tok.(string)
			folded := strings.ToUpper(strings.ToLower(k))
			if stack[n-1].keys[folded] {
				return fmt.Errorf("key %q appears twice", clip.Text(k))
			}
			if n == 1 && fields != nil && !fields[k] {
				return fmt.Errorf("unknown field %q", clip.Text(k))
			}
			stack[n-1].keys[folded] = true
			stack[n-1].wantKey = false
			continue
		}
		if isDelim {
			stack = append(stack, frame{obj: d == '{', wantKey: d == '{', keys: map[string]bool{}})
			continue
		}
		valueDone()
		if len(stack) == 0 {
			return nil
		}
	}
}

// describeJSONError says what is wrong with a body the decoder refused,
// without Go's type names and without quoting more than a little of it.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tpe *time.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty; want a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends in the middle of the value"
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed at byte %d: %s", syn.Offset, clip.Text(syn.Error()))
	case errors.As(err, &typ):
		got := typ.Value
		switch {
		case strings.HasPrefix(got, "number "):
			got = "the number " + clip.Text(strings.TrimPrefix(got, "number "))
		case got == "array" || got == "object":
			got = "an " + got
		case got == "":
		default:
			got = "a " + got
		}
		want := "want " + jsonKind(typ.Type)
		if got != "" {
			want += ", not " + got
		}
		if typ.Field == "" {
			return "the body must be a JSON object" // a value of the wrong kind at the top
		}
		return fmt.Sprintf("field %s: %s", clip.Text(typ.Field), want)
	case errors.As(err, &tpe), strings.Contains(err.Error(), "Time.UnmarshalJSON"):
		return "a time must be an RFC 3339 string such as 2024-05-01T12:00:00Z, from year 1678 to 2262"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if i := strings.Index(msg, "unknown field "); i >= 0 {
		return clip.Text(msg[i:])
	}
	return "malformed"
}

// jsonKind names what a Go type takes in JSON.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}
