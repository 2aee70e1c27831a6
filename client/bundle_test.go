package client

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/presence-dev/presence/client/internal/bundle"
)

// TestBundlesFresh builds the client from src/ again, in memory with the
// options of go generate, and fails when a committed file differs: a
// change to src/ needs go generate ./client/ in the same commit.
func TestBundlesFresh(t *testing.T) {
	t.Parallel()
	built, err := bundle.Build(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range bundle.Names {
		if !bytes.Equal(built[name], source(t, name)) {
			t.Errorf("%s is stale against src/: run go generate ./client/ and commit the result", name)
		}
	}
}

// TestBundlesReproducible: the files depend on the sources alone, not on
// where the checkout is, so every clone builds the same bytes.
func TestBundlesReproducible(t *testing.T) {
	t.Parallel()
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	// A copy of the sources elsewhere builds the same files.
	other := t.TempDir()
	if err := os.CopyFS(filepath.Join(other, "src"), os.DirFS("src")); err != nil {
		t.Fatal(err)
	}
	here, err := bundle.Build(".")
	if err != nil {
		t.Fatal(err)
	}
	there, err := bundle.Build(other)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range bundle.Names {
		if !bytes.Equal(here[name], there[name]) {
			t.Errorf("%s differs when built from another folder", name)
		}
		for _, dir := range []string{abs, other} {
			if bytes.Contains(here[name], []byte(dir)) || bytes.Contains(there[name], []byte(dir)) {
				t.Errorf("%s names the folder %s", name, dir)
			}
		}
	}
}

// TestSourceMaps: each bundle points at its map by a relative URL (for
// presence.js, which every page pays for, in the SourceMap header it is
// served with), and the map names the modules relative to client/, with
// their text.
func TestSourceMaps(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"presence.js", "presence.mjs", "presence-share.mjs"} {
		js := strings.TrimRight(string(source(t, name)), "\n")
		comment := "//# sourceMappingURL=" + name + ".map"
		header := do(t, "GET", "/"+name, nil).Header.Get("SourceMap")
		switch {
		case name == "presence.js" && (header != name+".map" || strings.Contains(js, "sourceMappingURL")):
			t.Errorf("%s is served with SourceMap %q, and its text names a map: %v; want the header alone", name, header, strings.Contains(js, "sourceMappingURL"))
		case name != "presence.js" && (!strings.HasSuffix(js, comment) || header != ""):
			t.Errorf("%s does not end with %q, or is served with a SourceMap header", name, comment)
		}
		var m struct {
			Version        int      `json:"version"`
			Sources        []string `json:"sources"`
			SourcesContent []string `json:"sourcesContent"`
		}
		if err := json.Unmarshal(source(t, name+".map"), &m); err != nil {
			t.Fatalf("%s.map: %v", name, err)
		}
		if m.Version != 3 || len(m.Sources) == 0 || len(m.SourcesContent) != len(m.Sources) || name != "presence-share.mjs" && len(m.Sources) < 5 {
			t.Errorf("%s.map: version %d, %d sources, %d contents", name, m.Version, len(m.Sources), len(m.SourcesContent))
		}
		for i, src := range m.Sources {
			if !strings.HasPrefix(src, "src/") || !strings.HasSuffix(src, ".js") {
				t.Errorf("%s.map names the source %q, want src/*.js", name, src)
				continue
			}
			if i < len(m.SourcesContent) && m.SourcesContent[i] != string(source(t, src)) {
				t.Errorf("%s.map holds another text of %s", name, src)
			}
		}
	}
}

// TestSourceLimits keeps each module of src/ readable at a glance.
func TestSourceLimits(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob("src/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if lines := bytes.Count(source(t, name), []byte("\n")); lines > 200 {
			t.Errorf("%s has %d lines, over 200: split it by concern", name, lines)
		}
	}
}
