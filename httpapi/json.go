package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/presence-dev/presence/protocol"
)

// maxAPIBody bounds a request body of the server API.
const maxAPIBody = 64 << 10

// decodeAPIBody reads an optional JSON object body strictly into v. It
// answers the request itself and reports false when the body is wrong.
func decodeAPIBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readAPIBody(w, r, maxAPIBody)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	return decodeStrict(w, body, v)
}

// readAPIBody reads a body of at most limit bytes. It answers the request
// itself and reports false when it cannot.
func readAPIBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeAPIError(w, http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, fmt.Sprintf("the body must be at most %d bytes", limit))
			return nil, false
		}
		writeAPIError(w, http.StatusBadRequest, protocol.CodeBadRequest, "cannot read the body: "+err.Error())
		return nil, false
	}
	return body, true
}

// decodeStrict decodes body, one JSON object with only the members v
// defines, into v. It answers the request itself and reports false when
// the body is wrong.
func decodeStrict(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeAPIError(w, http.StatusBadRequest, protocol.CodeBadRequest, "the body must be a JSON object with the documented fields: "+err.Error())
		return false
	}
	if dec.More() {
		writeAPIError(w, http.StatusBadRequest, protocol.CodeBadRequest, "the body must hold one JSON object")
		return false
	}
	return true
}

func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, struct {
		Error apiError `json:"error"`
	}{apiError{Code: code, Message: message}})
}

// writeJSON answers with v as JSON. HTML characters are not escaped: the
// answers go to programs, and docs quote them as they are.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
