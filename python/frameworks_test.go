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

// interpreter finds, once per module, a python3 that can import it.
type interpreter struct {
	module string // the import name: django, flask
	apt    string // Debian's package that brings it
	once   sync.Once
	path   string
}

var (
	djangoInterp = &interpreter{module: "django", apt: "python3-django"}
	flaskInterp  = &interpreter{module: "flask", apt: "python3-flask"}
)

// find returns an interpreter that can import the module: python3 on
// PATH, else /usr/bin/python3 (Debian's packages install there, while a
// pyenv or venv python3 may come first on PATH). Without one the test
// skips with one line, unless CI=true, where it fails.
func (in *interpreter) find(t *testing.T) string {
	t.Helper()
	if in.lookup() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no python3 can import %s; CI must install %s", in.module, in.apt)
		}
		t.Skipf("skipped: no python3 can import %s (apt-get install %s)", in.module, in.apt)
	}
	return in.path
}

// lookup returns the interpreter's path, or "" when there is none.
func (in *interpreter) lookup() string {
	in.once.Do(func() {
		for _, name := range []string{"python3", "/usr/bin/python3"} {
			path, err := exec.LookPath(name)
			if err != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = exec.CommandContext(ctx, path, "-c", "import "+in.module).Run()
			cancel()
			if err == nil {
				in.path = path
				return
			}
		}
	})
	return in.path
}

// djangoPython returns an interpreter that can import Django.
func djangoPython(t *testing.T) string { return djangoInterp.find(t) }

// runUnittest runs Python test modules of this folder with py.
func runUnittest(t *testing.T, py string, modules []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-m", "unittest", "-v"}, modules...)...)
	cmd.Env = pythonEnv
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -m unittest %s: %v\n%s", py, strings.Join(modules, " "), err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}

// TestDjangoUnitTests runs the tests of presence.django in a real Django,
// with presence's API faked (djangoenv.py).
func TestDjangoUnitTests(t *testing.T) {
	t.Parallel()
	runUnittest(t, djangoPython(t), []string{"test_django", "test_django_page", "test_django_checks"})
}

// TestFlaskUnitTests runs the tests of presence.flask in a real Flask,
// with presence's API faked.
func TestFlaskUnitTests(t *testing.T) {
	t.Parallel()
	runUnittest(t, flaskInterp.find(t), []string{"test_flask"})
}
