package client

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sizeBudget is the most that presence.js and presence.css may weigh
// together, gzipped at level 9: what a page pays for presence.
const sizeBudget = 8192

func do(t *testing.T, method, path string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("body is not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func source(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServeFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ path, file, contentType string }{
		{"/presence.js", "presence.js", "text/javascript; charset=utf-8"},
		{"/presence.css", "presence.css", "text/css; charset=utf-8"},
		{"/presence.mjs", "presence.mjs", "text/javascript; charset=utf-8"},
		{"/presence.js.map", "presence.js.map", "application/json"},
		{"/presence.mjs.map", "presence.mjs.map", "application/json"},
		{"/presence-share.mjs", "presence-share.mjs", "text/javascript; charset=utf-8"},
		{"/presence-share.mjs.map", "presence-share.mjs.map", "application/json"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			resp := do(t, http.MethodGet, tc.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			want := map[string]string{
				"Content-Type":                 tc.contentType,
				"Cache-Control":                "public, max-age=3600, must-revalidate",
				"Vary":                         "Accept-Encoding",
				"X-Content-Type-Options":       "nosniff",
				"Access-Control-Allow-Origin":  "*",
				"Cross-Origin-Resource-Policy": "cross-origin",
				"Content-Encoding":             "",
			}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			b := body(t, resp)
			if !bytes.Equal(b, source(t, tc.file)) {
				t.Errorf("body differs from %s", tc.file)
			}
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(b)) {
				t.Errorf("Content-Length %q, want %d", got, len(b))
			}
			etag := resp.Header.Get("ETag")
			if len(etag) < 10 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
				t.Errorf("ETag %q is not a strong entity tag", etag)
			}
		})
	}
}

func TestServeETagsDiffer(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, p := range []string{"/presence.js", "/presence.css", "/presence.mjs", "/presence.js.map", "/presence.mjs.map", "/presence-share.mjs", "/presence-share.mjs.map"} {
		etag := do(t, http.MethodGet, p, nil).Header.Get("ETag")
		if other, ok := seen[etag]; ok {
			t.Fatalf("%s and %s have the ETag %s", other, p, etag)
		}
		seen[etag] = p
	}
	js := do(t, http.MethodGet, "/presence.js", nil).Header.Get("ETag")
	if again := do(t, http.MethodGet, "/presence.js", nil).Header.Get("ETag"); again != js {
		t.Fatalf("ETag changed between requests: %s then %s", js, again)
	}
}

func TestServeNotModified(t *testing.T) {
	t.Parallel()
	etag := do(t, http.MethodGet, "/presence.js", nil).Header.Get("ETag")
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"same", etag, http.StatusNotModified},
		{"weak", "W/" + etag, http.StatusNotModified},
		{"in a list", `"other", ` + etag, http.StatusNotModified},
		{"star", "*", http.StatusNotModified},
		{"other", `"0123456789abcdef"`, http.StatusOK},
		{"unquoted", strings.Trim(etag, `"`), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, http.MethodGet, "/presence.js", map[string]string{
				"If-None-Match":   tc.header,
				"Accept-Encoding": "gzip",
			})
			if resp.StatusCode != tc.want {
				t.Fatalf("If-None-Match %s: status %d, want %d", tc.header, resp.StatusCode, tc.want)
			}
			if tc.want != http.StatusNotModified {
				return
			}
			if b := body(t, resp); len(b) != 0 {
				t.Errorf("304 has a body of %d bytes", len(b))
			}
			if got := resp.Header.Get("ETag"); got != etag {
				t.Errorf("304 ETag %q, want %q", got, etag)
			}
			if got := resp.Header.Get("Cache-Control"); got == "" {
				t.Error("304 has no Cache-Control")
			}
		})
	}
}

func TestServeGzip(t *testing.T) {
	t.Parallel()
	plain := source(t, "presence.js")
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"*", true},
		{"", false},
		{"identity", false},
		{"br, deflate", false},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"deflate, gzip;q=0", false},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			t.Parallel()
			resp := do(t, http.MethodGet, "/presence.js", map[string]string{"Accept-Encoding": tc.accept})
			b := body(t, resp)
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
				t.Fatalf("Accept-Encoding %q: gzipped %v, want %v", tc.accept, got, tc.gzip)
			}
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(b)) {
				t.Errorf("Content-Length %q, want %d", got, len(b))
			}
			if tc.gzip {
				if len(b) >= len(plain) {
					t.Errorf("gzipped body is %d bytes, plain is %d", len(b), len(plain))
				}
				b = gunzip(t, b)
			}
			if !bytes.Equal(b, plain) {
				t.Error("body does not decode to presence.js")
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Error("no Vary: Accept-Encoding")
			}
		})
	}
}

func TestServeHead(t *testing.T) {
	t.Parallel()
	for _, enc := range []string{"", "gzip"} {
		get := do(t, http.MethodGet, "/presence.css", map[string]string{"Accept-Encoding": enc})
		getBody := body(t, get)
		head := do(t, http.MethodHead, "/presence.css", map[string]string{"Accept-Encoding": enc})
		if head.StatusCode != http.StatusOK {
			t.Fatalf("HEAD status %d, want 200", head.StatusCode)
		}
		if b := body(t, head); len(b) != 0 {
			t.Errorf("HEAD has a body of %d bytes", len(b))
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Cache-Control"} {
			if g, h := get.Header.Get(k), head.Header.Get(k); g != h {
				t.Errorf("Accept-Encoding %q: HEAD %s %q, GET has %q", enc, k, h, g)
			}
		}
		if head.Header.Get("Content-Length") != strconv.Itoa(len(getBody)) {
			t.Errorf("HEAD Content-Length %q, GET body is %d bytes", head.Header.Get("Content-Length"), len(getBody))
		}
	}
}

func TestServeMethodNotAllowed(t *testing.T) {
	t.Parallel()
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		resp := do(t, m, "/presence.js", nil)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("%s: Allow %q, want %q", m, got, "GET, HEAD")
		}
	}
}

func TestServeNotFound(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/", "/presence", "/presence.js/", "/presence.JS", "/client.go", "/doc.go", "/presence.min.js",
		"/src/start.js", "/src/presence.css", "/presence.css.map", "/gen.go"} {
		if resp := do(t, http.MethodGet, p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestSizeBudget keeps what every page downloads small: presence.js and
// presence.css together, gzipped at level 9, within 8 KiB.
func TestSizeBudget(t *testing.T) {
	t.Parallel()
	var all []byte
	for _, name := range []string{"presence.js", "presence.css"} {
		b := source(t, name)
		t.Logf("%s: %d bytes, %d gzipped", name, len(b), len(compress(b)))
		all = append(all, b...)
	}
	n := len(compress(all))
	t.Logf("together: %d bytes gzipped -9 (budget %d)", n, sizeBudget)
	if n > sizeBudget {
		t.Fatalf("presence.js + presence.css gzip to %d bytes, over the budget of %d", n, sizeBudget)
	}
}

// TestStaticRules checks what the strict Content-Security-Policy and the
// house rules forbid in the client: in both bundles, and in the modules
// they are built from.
func TestStaticRules(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob("src/*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append([]string{"presence.js", "presence.mjs", "presence-share.mjs"}, names...) {
		if strings.HasSuffix(name, ".test.js") || name == "src/testkit.js" {
			continue // tests run in Node, not in pages
		}
		js := string(source(t, name))
		for _, bad := range []string{"eval(", "new Function", "Function(", "blob:", ".style", "cssText", "'style'", `"style"`, "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "onbeforeunload", "setTimeout(\"", "setInterval(\""} {
			if strings.Contains(js, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
	if js := string(source(t, "presence.js")); !strings.HasPrefix(js, `"use strict";`) {
		t.Error(`presence.js does not start with "use strict"`)
	}
}
