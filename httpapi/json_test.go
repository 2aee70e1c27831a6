package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// An API error reads as docs/api.md quotes it: "<" and ">" as they are,
// not \u003c and \u003e.
func TestAPIErrorIsNotHTMLEscaped(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/api/v1/sessions/s1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "Bearer <the PRESENCE_API_KEY>") {
		t.Errorf("%d %s, want 401 naming Bearer <the PRESENCE_API_KEY>", resp.StatusCode, body)
	}
}
