package client

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

//go:generate go run gen.go

//go:embed presence.js presence.js.map presence.mjs presence.mjs.map presence-share.mjs presence-share.mjs.map presence.css
var files embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	contentType string
	sourceMap   string // the SourceMap header, for a bundle without a sourceMappingURL comment
	etag        string
	plain       []byte
	gzipped     []byte
}

// cacheControl lets browsers keep the files for a while and then
// revalidate them cheaply with the ETag.
const cacheControl = "public, max-age=3600, must-revalidate"

var assets = map[string]*asset{
	"/presence.js":            load("presence.js", "text/javascript; charset=utf-8").withMap("presence.js.map"),
	"/presence.mjs":           load("presence.mjs", "text/javascript; charset=utf-8"),
	"/presence.js.map":        load("presence.js.map", "application/json"),
	"/presence.mjs.map":       load("presence.mjs.map", "application/json"),
	"/presence-share.mjs":     load("presence-share.mjs", "text/javascript; charset=utf-8"),
	"/presence-share.mjs.map": load("presence-share.mjs.map", "application/json"),
	"/presence.css":           load("presence.css", "text/css; charset=utf-8"),
}

func load(name, contentType string) *asset {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("client: " + name + " is not embedded: " + err.Error()) // a build defect, not input
	}
	sum := sha256.Sum256(b)
	return &asset{
		contentType: contentType,
		etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		plain:       b,
		gzipped:     compress(b),
	}
}

func (a *asset) withMap(url string) *asset {
	a.sourceMap = url
	return a
}

func compress(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Handler serves /presence.js, /presence.mjs, their source maps
// /presence.js.map and /presence.mjs.map, and /presence.css, and answers
// 404 for any other path. The files are public: any origin may load them,
// with or without CORS (a page may use Subresource Integrity).
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if a.sourceMap != "" {
		h.Set("SourceMap", a.sourceMap)
	}
	if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.plain
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gzipped
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || strings.TrimPrefix(v, "W/") == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip,
// honouring a q=0 that refuses it.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.TrimSpace(coding)
		if !strings.EqualFold(coding, "gzip") && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}

// Paths returns the paths Handler serves, for mounting it.
func Paths() []string {
	paths := make([]string, 0, len(assets))
	for p := range assets {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}
