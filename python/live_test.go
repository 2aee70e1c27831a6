package python

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/protocol"
)

// The live tests run the Django site of testdata/djangosite.py, set up as
// docs/django.md says, against a real presence process built from this
// module, and check what issue 10 asks of the server side: a login with
// no tab is timed out, requests to pages without presence.js count as
// activity, and an outage of presence slows no request and logs nobody
// out.

const (
	liveAPIKey   = "live-test-api-key-0123456789"
	siteKey      = "django-insecure-site-key-for-presence-tests-0123456789" // djangosite.py's SECRET_KEY
	presenceWait = 10 * time.Second
)

var (
	buildOnce   sync.Once
	builtBinary string
	buildErr    error
	buildDir    string
)

// presenceBinary builds cmd/presence once per test binary, with -race
// when the tests run with it, so that the packages compiled for the tests
// are reused.
func presenceBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "presence-live-")
		if buildErr != nil {
			return
		}
		builtBinary = filepath.Join(buildDir, "presence")
		args := []string{"build", "-o", builtBinary}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/presence")...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/presence: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBinary
}

// freeAddr returns an address on 127.0.0.1 that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// lockedBuffer collects a process's output for the test to read while
// the process writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// presenceProc is a presence process on a fixed address.
type presenceProc struct {
	t    *testing.T
	addr string
	args []string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

func (p *presenceProc) url() string { return "http://" + p.addr }

// startPresence runs presence on addr with args and waits until it
// serves. It is killed when the test ends.
func startPresence(t *testing.T, addr string, args ...string) *presenceProc {
	t.Helper()
	p := &presenceProc{t: t, addr: addr, args: args}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *presenceProc) start() {
	p.t.Helper()
	p.log = &lockedBuffer{}
	p.cmd = exec.Command(presenceBinary(p.t), append([]string{"-addr", p.addr, "-api-key", liveAPIKey}, p.args...)...)
	p.cmd.Env = append(os.Environ(), "PRESENCE_SECRET="+string(secret))
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(presenceWait)
	for {
		resp, err := http.Get(p.url() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			p.t.Fatalf("presence exited: %s", p.log)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("presence did not serve within %s: %s", presenceWait, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops presence at once, as a crash would.
func (p *presenceProc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// session asks presence's API about sid and returns its status: active,
// warning, expired or unknown.
func (p *presenceProc) session(sid string) string {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.url()+"/api/v1/sessions/"+sid, nil)
	req.Header.Set("Authorization", "Bearer "+liveAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("GET /api/v1/sessions/%s: %v", sid, err)
	}
	defer resp.Body.Close()
	var s struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		p.t.Fatalf("GET /api/v1/sessions/%s: %s: %v", sid, resp.Status, err)
	}
	return s.Status
}

// waitStatus polls presence until sid has status want and returns when
// it was first seen so.
func (p *presenceProc) waitStatus(sid, want string, within time.Duration) time.Time {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := p.session(sid)
		if got == want {
			return time.Now()
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("session %s is %s after %s, want %s\npresence: %s", sid, got, within, want, p.log)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// djangoSite is a running testdata/djangosite.py.
type djangoSite struct {
	t      *testing.T
	url    string
	stderr *lockedBuffer
}

// startSite runs the Django site, configured to reach presence at
// presenceAddr, with env added to its environment.
func startSite(t *testing.T, presenceAddr string, env ...string) *djangoSite {
	t.Helper()
	py := djangoPython(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, py, "-u", "testdata/djangosite.py")
	cmd.Env = append(slices.Clip(pythonEnv),
		"SITE_DIR="+t.TempDir(),
		"PRESENCE_SECRET="+string(secret),
		"PRESENCE_URL=http://"+presenceAddr,
		"PRESENCE_API_URL=http://"+presenceAddr,
		"PRESENCE_API_KEY="+liveAPIKey,
	)
	cmd.Env = append(cmd.Env, env...)
	s := &djangoSite{t: t, stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
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
			t.Logf("Django's log:\n%s", s.stderr)
		}
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				port <- p
			}
		}
	}()
	select {
	case p := <-port:
		s.url = "http://127.0.0.1:" + p
	case <-done:
		t.Fatalf("the Django site exited: %s", s.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("the Django site did not start within 30 s: %s", s.stderr)
	}
	return s
}

// browser is a person's browser without JavaScript: cookies, no
// redirects followed, so that a refusal shows as the redirect to the
// login page.
type browser struct {
	site   *djangoSite
	client *http.Client
}

var csrfInput = regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`)

// login logs user in through the login form, as a person does, and
// returns the browser and the presence sid of its session.
func (s *djangoSite) login(user string) (*browser, string) {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{site: s, client: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	status, page := b.get("/accounts/login/")
	m := csrfInput.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		s.t.Fatalf("GET /accounts/login/: %d %s", status, page)
	}
	form := url.Values{"username": {user}, "password": {"pw-" + user + "-123"}, "csrfmiddlewaretoken": {m[1]}}
	resp, err := b.client.PostForm(s.url+"/accounts/login/", form)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/app/" {
		s.t.Fatalf("log in as %s: %s to %q", user, resp.Status, resp.Header.Get("Location"))
	}
	return b, b.sid()
}

// sid is the presence session id of the browser's Django session, as
// presence.session_id derives it (backend.SessionID's formula).
func (b *browser) sid() string {
	u, _ := url.Parse(b.site.url)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "sessionid" {
			m := hmac.New(sha256.New, []byte(siteKey))
			m.Write([]byte(c.Value))
			return "p1-" + hex.EncodeToString(m.Sum(nil)[:16])
		}
	}
	b.site.t.Fatal("no sessionid cookie")
	return ""
}

// get requests path and returns the status and body.
func (b *browser) get(path string) (int, string) {
	b.site.t.Helper()
	resp, err := b.client.Get(b.site.url + path)
	if err != nil {
		b.site.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// webhooks counts the deliveries of presence's webhook the site answered
// with 204.
func (s *djangoSite) webhooks() int {
	return strings.Count(s.stderr.String(), `"POST /hooks/presence/ HTTP/1.1" 204`)
}

// waitWebhooks waits until the site has answered n deliveries.
func (s *djangoSite) waitWebhooks(n int, within time.Duration) time.Time {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for s.webhooks() < n {
		if time.Now().After(deadline) {
			s.t.Fatalf("%d webhook deliveries after %s, want %d", s.webhooks(), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Now()
}

// liveSetup starts presence with args and the Django site wired to each
// other: the site's address is needed for presence's -webhook-url, and
// presence's for the site's settings, so presence's address is chosen
// first.
func liveSetup(t *testing.T, siteEnv []string, args ...string) (*presenceProc, *djangoSite) {
	t.Helper()
	addr := freeAddr(t)
	site := startSite(t, addr, siteEnv...)
	p := startPresence(t, addr, append([]string{"-webhook-url", site.url + "/hooks/presence/"}, args...)...)
	return p, site
}

// TestLiveLoginWithoutTabTimesOut: a login with no tab and no JavaScript
// registers the session; it expires with no request, the webhook ends
// it, and the old session cookie is refused.
func TestLiveLoginWithoutTabTimesOut(t *testing.T) {
	t.Parallel()
	p, site := liveSetup(t, nil, "-warn-after", "2s", "-expire-after", "4s")
	loggedIn := time.Now() // the session's last activity is a little later: the times below are upper bounds
	b, sid := site.login("alice")
	registered := p.waitStatus(sid, "active", 3*time.Second)
	t.Logf("registered %s after the login", registered.Sub(loggedIn).Round(time.Millisecond))

	expired := p.waitStatus(sid, "expired", 8*time.Second)
	if d := expired.Sub(loggedIn); d < 3500*time.Millisecond || d > 6*time.Second {
		t.Errorf("expired %s after the login, want about 4 s", d)
	}
	delivered := site.waitWebhooks(1, 5*time.Second)
	status, body := b.get("/plain/")
	refused := time.Now()
	if status != http.StatusFound {
		t.Fatalf("the ended session's cookie still works: %d %s", status, body)
	}
	deadline := loggedIn.Add(4 * time.Second)
	t.Logf("expiry to webhook answered: %s; to the request refused: %s",
		delivered.Sub(deadline).Round(time.Millisecond), refused.Sub(deadline).Round(time.Millisecond))
}

// TestLiveRequestsKeepSessionAlive: requests to pages without presence.js
// keep a session alive past expire_after, and a connected tab sees its
// warning dismissed by them.
func TestLiveRequestsKeepSessionAlive(t *testing.T) {
	t.Parallel()
	p, site := liveSetup(t, nil, "-warn-after", "2s", "-expire-after", "4s")
	b, sid := site.login("alice")
	start := time.Now()
	_, page := b.get("/app/")
	m := regexp.MustCompile(`data-token="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no token on /app/: %s", page)
	}
	tab := tabtest.Dial(t, p.url(), nil)
	tab.Hello(m[1], 0)
	tab.ExpectWithin(protocol.TypeWarn, 4*time.Second)

	b.get("/plain/") // the person works on a page without the script
	if f, _ := tab.ExpectWithin(protocol.TypeState, 2500*time.Millisecond); f.Status != "active" {
		t.Fatalf("after the request the tab got %+v, want the warning dismissed", f)
	}

	for time.Since(start) < 6*time.Second {
		time.Sleep(700 * time.Millisecond)
		if status, body := b.get("/plain/"); status != http.StatusOK {
			t.Fatalf("GET /plain/ %s after the login: %d %s", time.Since(start).Round(time.Millisecond), status, body)
		}
	}
	if got := p.session(sid); got != "active" && got != "warning" {
		t.Fatalf("after %s of requests the session is %s", time.Since(start).Round(time.Millisecond), got)
	}
	for _, f := range tab.Received() {
		if f.Type == protocol.TypeExpire {
			t.Fatal("the tab was told expire while the person worked on other pages")
		}
	}
}

// liveRedis returns a Redis URL for the outage test, on a database of its
// own: presence's binary keys everything under "presence:", and the
// other tests use database 0. Without a Redis the test skips, unless
// CI=true.
func liveRedis(t *testing.T) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Redis on 127.0.0.1:6379; CI must start one")
		}
		t.Skip("skipped: no Redis on 127.0.0.1:6379")
	}
	conn.Close()
	return "redis://127.0.0.1:6379/9"
}

// blackhole accepts connections on addr and never answers, as a hung
// presence would, until the test calls the returned stop.
func blackhole(t *testing.T, addr string) (stop func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the killed process's socket may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ln.Close()
			<-done
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// sessionIdle asks presence how long sid has been idle, in whole seconds.
func (p *presenceProc) sessionIdle(sid string) (status string, idle, expireIn int64) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.url()+"/api/v1/sessions/"+sid, nil)
	req.Header.Set("Authorization", "Bearer "+liveAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("GET /api/v1/sessions/%s: %v", sid, err)
	}
	defer resp.Body.Close()
	var s struct {
		Status    string `json:"status"`
		IdleS     int64  `json:"idle_s"`
		ExpireInS int64  `json:"expire_in_s"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		p.t.Fatalf("GET /api/v1/sessions/%s: %s: %v", sid, resp.Status, err)
	}
	return s.Status, s.IdleS, s.ExpireInS
}

// workDuring has the person of b load a page without presence.js every
// 400 ms for d, checking each answers 200, and returns the slowest and
// when the last began.
func workDuring(t *testing.T, b *browser, d time.Duration) (slowest time.Duration, last time.Time) {
	t.Helper()
	for start := time.Now(); time.Since(start) < d; time.Sleep(400 * time.Millisecond) {
		last = time.Now()
		if status, body := b.get("/plain/"); status != http.StatusOK {
			t.Fatalf("GET /plain/: %d %s", status, body)
		}
		slowest = max(slowest, time.Since(last))
	}
	return slowest, last
}

// TestLiveOutage: while presence hangs, requests answer as fast as ever;
// once it is back (Redis store), a session idle for longer than
// expire_after is ended at once, and one with requests during the outage
// is not: the activity that waited is sent at once. The limits come from
// Django's settings, in every entry, not from presence's defaults.
//
// The outage ends before the busy session's deadline as presence last
// knew it: presence decides a session's end from the activity it heard of
// before the deadline, so a longer outage ends it (docs/django.md, step 7).
func TestLiveOutage(t *testing.T) {
	t.Parallel()
	store := liveRedis(t)
	// A short token max age: what a run leaves in Redis is gone soon.
	p, site := liveSetup(t, []string{"SITE_WARN_AFTER=3", "SITE_EXPIRE_AFTER=6"},
		"-store", store, "-token-max-age", "1m")
	loggedIn := time.Now()
	idle, idleSID := site.login("alice")
	busy, busySID := site.login("bob")
	p.waitStatus(idleSID, "active", 3*time.Second)

	// bob works until presence goes away, and presence has heard of it.
	workDuring(t, busy, 3*time.Second)
	tabtest.Eventually(t, "bob's activity reported", func() bool {
		_, idle, _ := p.sessionIdle(busySID)
		return idle == 0
	})
	p.kill()
	stop := blackhole(t, p.addr)
	// bob goes on working while presence hangs, past alice's deadline.
	slowest, worked := workDuring(t, busy, time.Until(loggedIn.Add(6500*time.Millisecond)))
	if slowest > 500*time.Millisecond {
		t.Errorf("a request took %s during the outage: it waited on presence", slowest)
	}
	t.Logf("slowest request while presence hung: %s", slowest.Round(time.Microsecond))

	stop()
	p.start()
	back := time.Now()
	ended := p.waitStatus(idleSID, "expired", 3*time.Second)
	t.Logf("the idle session ended %s after presence came back", ended.Sub(back).Round(time.Millisecond))
	// The activity that waited in Django arrives within a try or two.
	var status string
	var idleS, expireIn int64
	deadline := time.Now().Add(time.Second)
	for {
		status, idleS, expireIn = p.sessionIdle(busySID)
		sinceWork := int64(time.Since(worked) / time.Second)
		if status == "expired" {
			t.Fatal("bob's session, with requests during the outage, was ended")
		}
		if idleS <= sinceWork+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's session is idle %d s %s after presence came back; his last request was %d s ago",
				idleS, time.Since(back).Round(time.Millisecond), sinceWork)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("bob's activity during the outage reached presence %s after it came back", time.Since(back).Round(time.Millisecond))
	if expireIn > 6 {
		t.Errorf("bob's session expires in %d s: Django's limits (6 s) were not kept", expireIn)
	}
	if status, _ := busy.get("/plain/"); status != http.StatusOK {
		t.Fatalf("bob was refused after the outage: %d", status)
	}
	tabtest.Eventually(t, "alice's ended session refused", func() bool {
		status, _ := idle.get("/plain/")
		return status == http.StatusFound
	})
}

// TestLiveMemoryRestart: a presence with the memory store that restarts
// forgets its sessions; the activity that waited in Django during the
// outage registers the working session again, with Django's limits and
// its user, and nobody is logged out.
func TestLiveMemoryRestart(t *testing.T) {
	t.Parallel()
	p, site := liveSetup(t, []string{"SITE_WARN_AFTER=3", "SITE_EXPIRE_AFTER=6"}, "-warn-after", "540s", "-expire-after", "600s")
	b, sid := site.login("alice")
	p.waitStatus(sid, "active", 3*time.Second)
	p.kill()
	workDuring(t, b, 2*time.Second)
	p.start()
	p.waitStatus(sid, "active", 2*time.Second)
	if _, _, expireIn := p.sessionIdle(sid); expireIn > 6 {
		t.Errorf("the session expires in %d s: Django's limits (6 s) were not sent again", expireIn)
	}
	if status, _ := b.get("/plain/"); status != http.StatusOK {
		t.Fatalf("alice was refused after the restart: %d", status)
	}
}
