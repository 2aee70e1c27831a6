package python

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/session"
)

// The tests of this file do what docs/django.md and docs/flask.md tell a
// person to do, with the package installed by pip (venv_test.go): a
// project made by django-admin startproject with only the documented
// steps applied, and the minimal Flask application of the docs, each
// against a real presence.

// docAddr is presence's address in the docs' snippets; the tests put
// their own presence's in its place.
const docAddr = "127.0.0.1:8765"

// readDoc returns a file of docs/.
func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docBlock returns the contents of the fenced code block that follows the
// line "<!-- test: name -->" in doc: the snippets the tests apply are
// those people read.
func docBlock(t *testing.T, doc, name string) string {
	t.Helper()
	_, after, ok := strings.Cut(doc, "<!-- test: "+name+" -->\n")
	if !ok {
		t.Fatalf("the docs have no block marked %q", name)
	}
	m := regexp.MustCompile("(?s)\\A\n*([ \t]*)```[a-z]*\n(.*?)\n[ \t]*```").FindStringSubmatch(after)
	if m == nil {
		t.Fatalf("no fenced block after the marker %q", name)
	}
	// A block in a list item is indented as the fence is.
	lines := strings.Split(m[2], "\n")
	for i, line := range lines {
		lines[i] = strings.TrimPrefix(line, m[1])
	}
	return strings.Join(lines, "\n")
}

// mustContain fails unless doc holds every snippet.
func mustContain(t *testing.T, doc string, snippets ...string) {
	t.Helper()
	for _, s := range snippets {
		if !strings.Contains(doc, s) {
			t.Errorf("the docs do not show %q", s)
		}
	}
}

// edit replaces the first match of pattern in the file at path by what
// repl makes of it, and fails if nothing matches. Patterns allow for
// either quote, since startproject's files changed theirs with Django 4.
func edit(t *testing.T, path, pattern string, repl func(match string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loc := regexp.MustCompile(pattern).FindIndex(b)
	if loc == nil {
		t.Fatalf("%s does not match %s:\n%s", path, pattern, b)
	}
	out := string(b[:loc[0]]) + repl(string(b[loc[0]:loc[1]])) + string(b[loc[1]:])
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// after and before insert a line after or before the match.
func after(line string) func(string) string  { return func(m string) string { return m + line + "\n" } }
func before(line string) func(string) string { return func(m string) string { return line + "\n" + m } }

// The lines of startproject's files the steps go beside.
const (
	staticfilesRe = `(?m)^ *['"]django\.contrib\.staticfiles['"],\n`
	authRe        = `(?m)^ *['"]django\.contrib\.auth\.middleware\.AuthenticationMiddleware['"],\n`
	dirsRe        = `['"]DIRS['"]: \[\],`
	adminRe       = `(?m)^ *path\(['"]admin/['"], admin\.site\.urls\),\n`
)

// run runs py with args in dir and returns the combined output; a failure
// is the test's.
func run(t *testing.T, dir string, env []string, py string, args ...string) string {
	t.Helper()
	out, err := command(dir, env, 2*time.Minute, py, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(py), strings.Join(args, " "), err, out)
	}
	return out
}

// driver is a running testdata/drive_*.py: an application and a test
// client in one process, answering the commands of drive.py.
type driver struct {
	t      *testing.T
	in     io.Writer
	out    *bufio.Scanner
	stderr *lockedBuffer
}

// startDriver runs script (of testdata/) with py in dir, and returns the
// driver and its first answer, {"sid", "page"}.
func startDriver(t *testing.T, py, dir, script string, env []string) (*driver, string, string) {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, py, "-u", abs)
	cmd.Dir = dir
	cmd.Env = append(slices.Clip(pythonEnv), env...)
	d := &driver{t: t, stderr: &lockedBuffer{}}
	cmd.Stderr = d.stderr
	if d.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("%s's log:\n%s", script, d.stderr)
		}
	})
	d.out = bufio.NewScanner(stdout)
	d.out.Buffer(nil, 1<<20)
	var first struct{ SID, Page string }
	d.read(&first)
	if first.SID == "" {
		t.Fatalf("%s logged in without a presence session", script)
	}
	return d, first.SID, first.Page
}

func (d *driver) read(v any) {
	d.t.Helper()
	if !d.out.Scan() {
		d.t.Fatalf("the driver stopped: %v\n%s", d.out.Err(), d.stderr)
	}
	if err := json.Unmarshal(d.out.Bytes(), v); err != nil {
		d.t.Fatalf("the driver said %s: %v", d.out.Bytes(), err)
	}
}

// get has the driver's test client GET path, and returns the status and
// the redirect's location.
func (d *driver) get(path string) (int, string) {
	d.t.Helper()
	fmt.Fprintf(d.in, "get %s\n", path)
	var r struct {
		Status   int
		Location string
		Error    string
	}
	d.read(&r)
	if r.Error != "" {
		d.t.Fatal(r.Error)
	}
	return r.Status, r.Location
}

// webhooks counts the deliveries of presence's webhook the application
// answered with 204.
func (d *driver) webhooks() int {
	return strings.Count(d.stderr.String(), `"POST /presence/webhook/ HTTP/1.1" 204`)
}

var scriptTag = regexp.MustCompile(`<script src="([^"]+)" defer data-url="([^"]+)" data-token="([^"]+)"[^>]*></script>`)

// checkSession follows one login through presence: the page shows the
// script tag with a token of the session, presence knows the session from
// the login, a request of the test client is activity, and once the
// session expires the webhook ends it: the next request of the test
// client is sent to the login page (loginPath).
func checkSession(t *testing.T, p *presenceProc, d *driver, sid, page, path, loginPath string) {
	t.Helper()
	m := scriptTag.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no script tag of presence in the page:\n%s", page)
	}
	if m[1] != p.url()+"/presence.js" || m[2] != p.url() {
		t.Errorf("the tag loads %s from %s, want presence's", m[1], m[2])
	}
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if claims, err := verifier.Verify(m[3]); err != nil || claims.SID != sid {
		t.Fatalf("the tag's token: %+v, %v; want one of session %s", claims, err, sid)
	}

	p.waitStatus(sid, "active", 15*time.Second) // the login, registered
	waitFor(t, "the session looks idle", 15*time.Second, func() bool {
		_, idle, _ := p.sessionIdle(sid)
		return idle >= 1
	})
	requested := time.Now()
	if status, _ := d.get(path); status != 200 {
		t.Fatalf("GET %s: %d", path, status)
	}
	answered := time.Now()
	// The report of the request reaches presence about a second after it,
	// later on a busy machine, with the idle counted from the request, so
	// presence's idle need not ever read 0. Before the report, presence
	// counts from the login, at least a second before the request, so its
	// idle exceeds the whole seconds since the request; after it, the idle
	// is at most those, and at least those less 3 (a second of rounding,
	// under 2 s from the sender's clock to presence's), unless the sender
	// counted from the send rather than from the request.
	deadline := time.Now().Add(15 * time.Second)
	for {
		sinceRequest, sinceAnswer := time.Since(requested), time.Since(answered)
		status, idle, _ := p.sessionIdle(sid)
		if idle <= int64(sinceRequest/time.Second) {
			if least := int64(sinceAnswer/time.Second) - 3; idle < least {
				t.Fatalf("the request was reported as idle %d s %s after it: the idle was not counted from the request",
					idle, sinceAnswer.Round(time.Millisecond))
			}
			break
		}
		if status == "expired" {
			t.Fatalf("the session expired before the request was reported (%s after it)", sinceRequest.Round(time.Millisecond))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request was not reported: idle %d s after %s", idle, sinceRequest.Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}

	p.waitStatus(sid, "expired", 20*time.Second)
	waitFor(t, "a webhook answered 204", 15*time.Second, func() bool { return d.webhooks() >= 1 })
	if status, location := d.get(path); status != 302 || !strings.HasPrefix(location, loginPath) {
		t.Fatalf("GET %s of the ended session: %d to %q, want the login page", path, status, location)
	}
}

// startproject makes a Django project in a fresh folder and returns the
// folder and its settings.py.
func startproject(t *testing.T, py string) (dir, settings string) {
	t.Helper()
	dir = t.TempDir()
	run(t, dir, nil, py, "-m", "django", "startproject", "mysite", ".")
	return dir, filepath.Join(dir, "mysite", "settings.py")
}

const (
	appLine      = `    "presence.django",`
	midLine      = `    "presence.django.PresenceMiddleware",`
	includeLine  = `    path("presence/", include("presence.django.urls")),`
	templateLine = `{% load presence %}{% presence_script %}`
)

// TestDjangoProject: a project of django-admin startproject with the steps
// of docs/django.md passes manage.py check, and its test client shows the
// tag's output, a login registered with presence, request activity
// reported, and the webhook ending the session.
func TestDjangoProject(t *testing.T) {
	t.Parallel()
	py := packageVenv(t)
	doc := readDoc(t, "django.md")
	mustContain(t, doc, "pip install --no-build-isolation /path/to/presence/python", appLine, midLine, includeLine, templateLine)
	dir, settings := startproject(t, py)
	presenceAddr, siteAddr := freeAddr(t), freeAddr(t)

	edit(t, settings, staticfilesRe, after(appLine))
	edit(t, settings, authRe, after(midLine))
	dirs := strings.TrimSpace(docBlock(t, doc, "dirs"))
	edit(t, settings, dirsRe, func(string) string { return dirs })
	settingsBlock := strings.ReplaceAll(docBlock(t, doc, "settings"), docAddr, presenceAddr)
	f, err := os.OpenFile(settings, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\n%s\n", settingsBlock)
	f.Close()
	urls := filepath.Join(dir, "mysite", "urls.py")
	edit(t, urls, `from django\.urls import path`, func(string) string { return "from django.urls import include, path" })
	edit(t, urls, adminRe, after(includeLine))
	override := docBlock(t, doc, "admin-template")
	if !strings.Contains(override, templateLine) {
		t.Fatalf("the admin's template in the docs has no %s", templateLine)
	}
	if err := os.MkdirAll(filepath.Join(dir, "templates", "admin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "admin", "base_site.html"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}

	p := startPresence(t, presenceAddr, "-webhook-url", "http://"+siteAddr+"/presence/webhook/",
		"-warn-after", "5s", "-expire-after", "10s", "-recovery-grace", "1s")
	env := []string{"PRESENCE_SECRET=" + string(secret), "PRESENCE_API_KEY=" + liveAPIKey,
		"DJANGO_SETTINGS_MODULE=mysite.settings", "SITE_ADDR=" + siteAddr}
	// check reads no table: migrate runs meanwhile.
	migrated := make(chan error, 1)
	go func() {
		out, err := command(dir, env, 2*time.Minute, py, "manage.py", "migrate")
		if err != nil {
			err = fmt.Errorf("manage.py migrate: %v\n%s", err, out)
		}
		migrated <- err
	}()
	out, err := command(dir, env, 2*time.Minute, py, "manage.py", "check")
	if err := <-migrated; err != nil {
		t.Fatal(err)
	}
	if err != nil || strings.Contains(out, "presence.") {
		t.Fatalf("manage.py check: %v\n%s", err, out)
	}
	d, sid, page := startDriver(t, py, dir, "drive_django.py", env)
	checkSession(t, p, d, sid, page, "/admin/", "/admin/login/")
}

// checkLines are the lines of manage.py check's output about presence:
// each message and its hint.
func checkLines(out string) []string {
	var lines []string
	keep := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "(presence."):
			keep = true
		case strings.HasPrefix(line, "\tHINT:"):
		default:
			keep = false
		}
		if keep {
			lines = append(lines, strings.TrimRight(line, " "))
		}
	}
	return lines
}

// TestDjangoProjectMisconfigured: a project with the middleware before
// AuthenticationMiddleware, a short secret, no webhook route and no
// presence to reach fails manage.py check with the messages docs/django.md
// shows.
func TestDjangoProjectMisconfigured(t *testing.T) {
	t.Parallel()
	py := packageVenv(t)
	doc := readDoc(t, "django.md")
	_, settings := startproject(t, py)
	nobody := freeAddr(t) // nothing listens there
	edit(t, settings, staticfilesRe, after(appLine))
	edit(t, settings, authRe, before(midLine))
	f, err := os.OpenFile(settings, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\n%s\n", strings.ReplaceAll(docBlock(t, doc, "settings"), docAddr, nobody))
	f.Close()

	env := []string{"PRESENCE_SECRET=short", "PRESENCE_API_KEY=" + liveAPIKey}
	out, err := command(filepath.Dir(filepath.Dir(settings)), env, time.Minute, py, "manage.py", "check")
	if err == nil {
		t.Fatalf("manage.py check passed:\n%s", out)
	}
	got := checkLines(strings.ReplaceAll(out, nobody, docAddr))
	want := checkLines(docBlock(t, doc, "check-output"))
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("manage.py check says:\n%s\nthe docs say:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// In a shell that did not export PRESENCE_SECRET, the settings of the
	// docs leave it unset, and the check says so as the docs' table does,
	// rather than settings.py failing with a KeyError.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "manage.py", "check")
	cmd.Dir = filepath.Dir(filepath.Dir(settings))
	cmd.Env = slices.DeleteFunc(slices.Clone(pythonEnv), func(kv string) bool {
		return strings.HasPrefix(kv, "PRESENCE_SECRET=")
	})
	cmd.Env = append(cmd.Env, "PRESENCE_API_KEY="+liveAPIKey)
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "?: (presence.E001) PRESENCE_SECRET is not set.") {
		t.Errorf("manage.py check without PRESENCE_SECRET: %v, want presence.E001 PRESENCE_SECRET is not set.\n%s", err, b)
	}
	mustContain(t, doc, "`PRESENCE_SECRET is not set.`")
}

// TestFlaskApp: the minimal application of docs/flask.md, run as it is,
// shows the script tag, registers its login, reports its requests, and
// refuses the session once presence's webhook ended it.
func TestFlaskApp(t *testing.T) {
	t.Parallel()
	py := packageVenv(t)
	if _, err := command(t.TempDir(), nil, time.Minute, py, "-c", "import flask"); err != nil {
		flaskInterp.find(t) // skips, or fails under CI, with the reason
		t.Fatalf("the virtual environment cannot import Flask: %v", err)
	}
	doc := readDoc(t, "flask.md")
	dir := t.TempDir()
	presenceAddr, siteAddr := freeAddr(t), freeAddr(t)
	app := strings.ReplaceAll(docBlock(t, doc, "flask-app"), docAddr, presenceAddr)
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPresence(t, presenceAddr, "-webhook-url", "http://"+siteAddr+"/presence/webhook/",
		"-warn-after", "5s", "-expire-after", "10s", "-recovery-grace", "1s")
	env := []string{"PRESENCE_SECRET=" + string(secret), "PRESENCE_API_KEY=" + liveAPIKey,
		"FLASK_SECRET_KEY=flask-secret-key-for-the-test", "SITE_ADDR=" + siteAddr}
	d, sid, page := startDriver(t, py, dir, "drive_flask.py", env)
	checkSession(t, p, d, sid, page, "/", "/login")
}
