package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

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
// most the configured size, no unknown fields, nothing after the value.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problemf(http.StatusUnsupportedMediaType, api.CodeInvalidRequest, "Content-Type must be application/json")
	}
	body := http.MaxBytesReader(w, s.body(w, r), s.cfg.MaxJSONBody)
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("reading body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problemf(http.StatusBadRequest, api.CodeInvalidJSON, "invalid JSON body: %v", err)
	}
	if dec.More() {
		return problemf(http.StatusBadRequest, api.CodeInvalidJSON, "invalid JSON body: data after the value")
	}
	return nil
}
