package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/strata-storage/strata/internal/clip"
)

// jsonKind is the kind of a JSON value.
type jsonKind uint8

const (
	jsonObject jsonKind = iota + 1
	jsonArray
	jsonString
	jsonNumber
	jsonBool
	jsonNull
)

func (k jsonKind) String() string {
	switch k {
	case jsonObject:
		return "an object"
	case jsonArray:
		return "a list"
	case jsonString:
		return "a string"
	case jsonNumber:
		return "a number"
	case jsonBool:
		return "true or false"
	}
	return "null"
}

// jsonValue is one value of a policy document with where it starts, so
// that every error can say where it is. encoding/json's Decoder gives
// the tokens; it neither keeps positions nor refuses duplicate keys,
// which a policy must (a second "Effect" silently winning is how a Deny
// gets lost).
type jsonValue struct {
	kind    jsonKind
	off     int    // byte offset of the value's first character
	text    string // a string's value, a number's literal, "true" or "false"
	members []jsonMember
	elems   []*jsonValue
}

type jsonMember struct {
	key    string
	keyOff int
	value  *jsonValue
}

// maxJSONDepth bounds nesting: a policy needs six levels
// (document, Statement list, statement, Condition, operator, key's list).
const maxJSONDepth = 16

// jsonError is a syntax error at a byte offset, inside the element ptr
// (a JSON pointer).
type jsonError struct {
	off    int
	ptr    string
	reason string
}

func (e *jsonError) Error() string { return e.reason }

// parseJSON reads one JSON value from doc with positions, refusing
// invalid UTF-8, duplicate keys, nesting deeper than maxJSONDepth and
// anything after the value.
func parseJSON(doc []byte) (*jsonValue, error) {
	if !utf8.Valid(doc) {
		off := 0
		for off < len(doc) {
			r, n := utf8.DecodeRune(doc[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, &jsonError{off, "", "the document is not valid UTF-8"}
	}
	r := &jsonReader{doc: doc, dec: json.NewDecoder(bytes.NewReader(doc))}
	r.dec.UseNumber()
	v, err := r.value("", 0)
	if err != nil {
		return nil, err
	}
	start := r.next()
	if _, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &jsonError{start, "", "unexpected data after the policy document"}
	}
	return v, nil
}

type jsonReader struct {
	doc []byte
	dec *json.Decoder
}

// next is the offset where the next token starts: the decoder's offset
// past the separators it consumes silently.
func (r *jsonReader) next() int {
	off := int(r.dec.InputOffset())
	for off < len(r.doc) {
		switch r.doc[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

func (r *jsonReader) token(ptr string) (json.Token, int, error) {
	off := r.next()
	tok, err := r.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			at := int(se.Offset) - 1
			if at < off {
				at = off
			}
			return nil, 0, &jsonError{at, ptr, "invalid JSON: " + se.Error()}
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, 0, &jsonError{len(r.doc), ptr, "invalid JSON: unexpected end of the document"}
		}
		return nil, 0, &jsonError{off, ptr, "invalid JSON: " + err.Error()}
	}
	return tok, off, nil
}

func (r *jsonReader) value(ptr string, depth int) (*jsonValue, error) {
	tok, off, err := r.token(ptr)
	if err != nil {
		return nil, err
	}
	return r.valueFrom(tok, off, ptr, depth)
}

func (r *jsonReader) valueFrom(tok json.Token, off int, ptr string, depth int) (*jsonValue, error) {
	switch t := tok.(type) {
	case string:
		return &jsonValue{kind: jsonString, off: off, text: t}, nil
	case json.Number:
		return &jsonValue{kind: jsonNumber, off: off, text: string(t)}, nil
	case bool:
		return &jsonValue{kind: jsonBool, off: off, text: fmt.Sprint(t)}, nil
	case nil:
		return &jsonValue{kind: jsonNull, off: off}, nil
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, &jsonError{off, ptr, fmt.Sprintf("nested deeper than %d levels", maxJSONDepth)}
		}
		switch t {
		case '{':
			return r.object(off, ptr, depth+1)
		case '[':
			return r.array(off, ptr, depth+1)
		}
	}
	return nil, &jsonError{off, ptr, fmt.Sprintf("invalid JSON: unexpected %v", tok)}
}

func (r *jsonReader) object(off int, ptr string, depth int) (*jsonValue, error) {
	v := &jsonValue{kind: jsonObject, off: off}
	seen := map[string]bool{}
	for {
		tok, keyOff, err := r.token(ptr)
		if err != nil {
			return nil, err
		}
		if tok == json.Delim('}') {
			return v, nil
		}
		key, ok := tok.(string)
		if !ok {
			return nil, &jsonError{keyOff, ptr, "invalid JSON: an object's key must be a string"}
		}
		kptr := ptr + "/" + pointerToken(key)
		if seen[key] {
			return nil, &jsonError{keyOff, kptr, fmt.Sprintf("duplicate key %q", clip.Text(key))}
		}
		seen[key] = true
		val, err := r.value(kptr, depth)
		if err != nil {
			return nil, err
		}
		v.members = append(v.members, jsonMember{key: key, keyOff: keyOff, value: val})
	}
}

func (r *jsonReader) array(off int, ptr string, depth int) (*jsonValue, error) {
	v := &jsonValue{kind: jsonArray, off: off}
	for {
		tok, at, err := r.token(ptr)
		if err != nil {
			return nil, err
		}
		if tok == json.Delim(']') {
			return v, nil
		}
		el, err := r.valueFrom(tok, at, ptr+"/"+strconv.Itoa(len(v.elems)), depth)
		if err != nil {
			return nil, err
		}
		v.elems = append(v.elems, el)
	}
}

// lineColumn turns a byte offset of doc into a 1-based line and column,
// the column counted in characters as editors show it.
func lineColumn(doc []byte, off int) (line, col int) {
	if off > len(doc) {
		off = len(doc)
	}
	if off < 0 {
		off = 0
	}
	before := doc[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[start:])
}

// pointerToken escapes a key for a JSON pointer (RFC 6901).
func pointerToken(key string) string {
	if !strings.ContainsAny(key, "~/") {
		return key
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}
