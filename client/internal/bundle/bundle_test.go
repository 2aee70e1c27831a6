package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	files, err := Build("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names {
		if len(files[name]) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	if js := string(files["presence.js"]); !strings.HasPrefix(js, `"use strict";`) || !strings.Contains(js, "window.Presence") {
		t.Errorf("presence.js is not a strict script that defines window.Presence: %.80s", js)
	}
	if mjs := string(files["presence.mjs"]); strings.Contains(mjs, "window.Presence") || !strings.Contains(mjs, "export{") {
		t.Errorf("presence.mjs is not a module without a global: %.80s", mjs)
	}
}

// TestBuildError: a mistake in a module fails the build, naming where.
func TestBuildError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "src"), os.DirFS("../../src")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "token.js"), []byte("export function readClaims(token {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(dir)
	if err == nil || !strings.Contains(err.Error(), "src/token.js:1:") {
		t.Fatalf("Build with a syntax error: %v, want an error at src/token.js:1", err)
	}
}
