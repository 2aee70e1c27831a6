package python

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"flag"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The package as a user installs it: pip install of this folder into a
// fresh virtual environment, offline, as docs/django.md says.

var (
	venvOnce sync.Once
	venvDir  string // removed by TestMain
	venvPy   string // its python, once made
	venvSkip string // why it cannot be made on this machine
	venvErr  string // why making it failed
)

// venvTests need packageVenv. TestMain starts making it in the
// background when the run includes one, since it takes a while and the
// other tests mostly wait on timers.
var venvTests = []string{"TestPipInstall", "TestReleaseArchive", "TestDjangoProject", "TestDjangoProjectMisconfigured",
	"TestFlaskApp"}

// offlinePip is the environment of every pip call: no index (the
// install must work offline), no configuration of this machine (a fresh
// one has none), no questions.
var offlinePip = []string{"PIP_NO_INDEX=1", "PIP_CONFIG_FILE=/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK=1",
	"PIP_NO_INPUT=1"}

// packageVenv returns the python of a virtual environment made with
// "python3 -m venv --system-site-packages" from an interpreter that has
// Django (Debian's python3-django and python3-flask come through), into
// which the package was installed with "pip install --no-build-isolation
// ./python". It is made once per test binary. Without such an
// interpreter the test skips with one line, unless CI=true.
func packageVenv(t *testing.T) string {
	t.Helper()
	venvOnce.Do(makeVenv)
	if venvSkip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(venvSkip + "; CI must install them")
		}
		t.Skip("skipped: " + venvSkip)
	}
	if venvErr != "" {
		t.Fatal(venvErr)
	}
	return venvPy
}

// makeVenv makes the environment of packageVenv.
func makeVenv() {
	py := djangoInterp.lookup()
	if py == "" {
		venvSkip = "no python3 can import Django (apt-get install python3-django)"
		return
	}
	// Debian leaves ensurepip, which venv needs, to python3-venv; pip
	// builds the package offline with the wheel of python3-wheel.
	if _, err := command(".", nil, 20*time.Second, py, "-c", "import ensurepip, wheel"); err != nil {
		venvSkip = py + " cannot make a virtual environment and build a wheel offline (apt-get install python3-venv python3-wheel)"
		return
	}
	dir, err := os.MkdirTemp("", "presence-venv-")
	if err != nil {
		venvErr = err.Error()
		return
	}
	venvDir = dir
	if out, err := command(dir, nil, 2*time.Minute, py, "-m", "venv", "--system-site-packages", "venv"); err != nil {
		venvErr = "python3 -m venv: " + err.Error() + "\n" + out
		return
	}
	// A copy, as a fresh clone: the build writes build/ and *.egg-info
	// beside the sources.
	if err := copyTree(".", filepath.Join(dir, "src", "python")); err != nil {
		venvErr = err.Error()
		return
	}
	pip := []string{filepath.Join(dir, "venv", "bin", "pip"), "install", "--no-build-isolation", "./python"}
	if out, err := command(filepath.Join(dir, "src"), offlinePip, 2*time.Minute, pip[0], pip[1:]...); err != nil {
		venvErr = strings.Join(pip, " ") + ": " + err.Error() + "\n" + out
		return
	}
	venvPy = filepath.Join(dir, "venv", "bin", "python")
}

// runIncludes reports whether the -run pattern selects any of the tests.
func runIncludes(tests []string) bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	top, _, _ := strings.Cut(f.Value.String(), "/")
	re, err := regexp.Compile(top)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(tests, re.MatchString)
}

// command runs name with args in dir, with env added, and returns its
// combined output.
func command(dir string, env []string, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(slices.Clip(pythonEnv), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// copyTree copies the regular files under src to dst, leaving out what
// tests and builds leave behind.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && (name == "__pycache__" || name == "build" || name == "dist" || strings.HasSuffix(name, ".egg-info")) {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, path)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// TestPipInstall: the package installs offline into a fresh virtual
// environment, and the environment imports it from there, Django app and
// Flask extension included.
func TestPipInstall(t *testing.T) {
	t.Parallel()
	py := packageVenv(t)
	out, err := command(t.TempDir(), nil, time.Minute, py, "-c", `
import presence, presence.django.apps, presence.django.templatetags.presence, presence.django.urls, presence.flask
print(presence.__file__)`)
	if err != nil {
		t.Fatalf("import in the virtual environment: %v\n%s", err, out)
	}
	if want := filepath.Join(venvDir, "venv", "lib"); !strings.HasPrefix(strings.TrimSpace(out), want) {
		t.Errorf("presence imported from %s, want the virtual environment (%s)", strings.TrimSpace(out), want)
	}
}

// coreScript imports the standard-library core with Django and Flask made
// unimportable, and fails if anything drags either in.
const coreScript = `
import sys
sys.path.insert(0, sys.argv[1])

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("django", "flask", "werkzeug", "jinja2"):
            raise ImportError("no " + name + " here")

sys.meta_path.insert(0, Refuse())
import presence
from presence import tokens, webhook, api, activity, sender, enforce, pages, script, checks, localcache
token = presence.mint_token(b"0" * 32, "p1-core")
presence.Sender(presence.Client("http://127.0.0.1:9", "key-0123456789abcdef")).close(0)
for framework in ("presence.django", "presence.flask"):
    try:
        __import__(framework)
    except ImportError:
        pass
    else:
        raise SystemExit(framework + " imported without its framework")
dragged = [m for m in sys.modules if m.split(".")[0] in ("django", "flask")]
if dragged:
    raise SystemExit("imported: %s" % dragged)
print("core ok")
`

// TestReleaseArchive builds the source archive a release ships, checks
// that it holds the package and nothing else of this folder, installs it
// offline, and imports the standard-library core from the installation
// in an interpreter without Django or Flask.
func TestReleaseArchive(t *testing.T) {
	t.Parallel()
	py := packageVenv(t)
	src := filepath.Join(t.TempDir(), "python")
	if err := copyTree(".", src); err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	out, err := command(src, offlinePip, time.Minute, py, "-c",
		"import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))", dist)
	if err != nil {
		t.Fatalf("build_sdist: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	archive := filepath.Join(dist, lines[len(lines)-1])
	members := tarMembers(t, archive)
	for _, want := range []string{"pyproject.toml", "README.md", "presence/__init__.py", "presence/py.typed",
		"presence/django/templatetags/presence.py", "presence/django/urls.py", "presence/flask/extension.py"} {
		if !slices.Contains(members, want) {
			t.Errorf("the archive lacks %s: %v", want, members)
		}
	}
	for _, m := range members {
		if strings.HasSuffix(m, ".go") || strings.HasPrefix(filepath.Base(m), "test_") || strings.HasPrefix(m, "testdata/") {
			t.Errorf("the archive holds %s", m)
		}
	}

	target := t.TempDir()
	out, err = command(dist, offlinePip, 2*time.Minute, py, "-m", "pip", "install", "--no-build-isolation",
		"--no-deps", "--target", target, archive)
	if err != nil {
		t.Fatalf("pip install of the archive: %v\n%s", err, out)
	}
	// -I -S: no site-packages at all, so Debian's Django and Flask are
	// out of reach whatever the interpreter; the script refuses them too.
	out, err = command(t.TempDir(), nil, time.Minute, python3(t), "-I", "-S", "-c", coreScript, target)
	if err != nil || strings.TrimSpace(out) != "core ok" {
		t.Fatalf("the core without Django or Flask: %v\n%s", err, out)
	}
}

// tarMembers lists a .tar.gz's files, without its top folder.
func tarMembers(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, rest, ok := strings.Cut(h.Name, "/"); ok {
				names = append(names, rest)
			}
		}
	}
}
