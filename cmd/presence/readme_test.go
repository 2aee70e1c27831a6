package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/presence-dev/presence/session"
)

// requireTool returns the path of a program the test needs. Without it the
// test skips with one line, unless CI=true, where a missing part fails.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; .ci/run should have installed it", name)
		}
		t.Skipf("skipped: %s is not installed", name)
	}
	return path
}

// The README's Python snippet, run as a person would run it, mints a token
// that presence accepts.
func TestReadmePythonSnippetMintsAcceptedTokens(t *testing.T) {
	python := requireTool(t, "python3")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)`mint.py`, standard library only[^`]*```python\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no mint.py snippet")
	}
	script := filepath.Join(t.TempDir(), "mint.py")
	if err := os.WriteFile(script, m[1], 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, "readme-session:1")
	cmd.Env = append(os.Environ(), "PRESENCE_SECRET="+goodSecret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 mint.py: %v\n%s", err, out)
	}
	v, err := session.NewVerifier(session.VerifierOptions{Secret: []byte(goodSecret)})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the README's token is refused: %v", err)
	}
	if claims.SID != "readme-session:1" || claims.WarnAfter != 20 || claims.ExpireAfter != 30 {
		t.Errorf("claims = %+v", claims)
	}

	// The function takes the optional claims as keyword arguments.
	cmd = exec.Command(python, "-c", `import sys; sys.path.insert(0, sys.argv[1]); from mint import mint_presence_token
print(mint_presence_token(b"`+goodSecret+`", "s2", uid="7", warn_after=60, expire_after=120, logout_url="/logout/"))`, filepath.Dir(script))
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	claims, err = v.Verify(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("token with claims refused: %v", err)
	}
	if claims.UID != "7" || claims.WarnAfter != 60 || claims.ExpireAfter != 120 || claims.LogoutURL != "/logout/" {
		t.Errorf("claims = %+v", claims)
	}
}
