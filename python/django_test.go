package python

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	djangoOnce sync.Once
	djangoPath string
)

// djangoPython returns an interpreter that can import Django: python3 on
// PATH, else /usr/bin/python3 (Debian's python3-django installs there,
// while a pyenv or venv python3 may come first on PATH). Without one the
// test skips with one line, unless CI=true, where it fails.
func djangoPython(t *testing.T) string {
	t.Helper()
	djangoOnce.Do(func() {
		for _, name := range []string{"python3", "/usr/bin/python3"} {
			path, err := exec.LookPath(name)
			if err != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = exec.CommandContext(ctx, path, "-c", "import django").Run()
			cancel()
			if err == nil {
				djangoPath = path
				return
			}
		}
	})
	if djangoPath == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no python3 can import Django; CI must install python3-django")
		}
		t.Skip("skipped: no python3 can import Django (apt-get install python3-django)")
	}
	return djangoPath
}

// djangoTests are the Python tests of presence.django in a real Django,
// with presence's API faked (djangoenv.py).
var djangoTests = []string{"test_django", "test_django_page", "test_django_checks"}

// TestDjangoUnitTests runs djangoTests.
func TestDjangoUnitTests(t *testing.T) {
	t.Parallel()
	py := djangoPython(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-m", "unittest", "-v"}, djangoTests...)...)
	cmd.Env = pythonEnv
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -m unittest %s: %v\n%s", py, strings.Join(djangoTests, " "), err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}
