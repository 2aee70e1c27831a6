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

	"github.com/redis/go-redis/v9"
)

// What the live tests run: presence built from this module, the Django
// site of testdata/djangosite.py, a browser without JavaScript, and a
// presence that hangs.

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
	case <-time.After(2 * time.Minute): // it migrates first, which a busy machine makes slow
		t.Fatalf("the Django site did not start within 2 minutes: %s", s.stderr)
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
	return strings.Count(s.stderr.String(), `"POST /presence/webhook/ HTTP/1.1" 204`)
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
	p := startPresence(t, addr, append([]string{"-webhook-url", site.url + "/presence/webhook/"}, args...)...)
	return p, site
}

// liveRedis returns a Redis URL for the outage test, on a database that
// no other run of the test uses meanwhile. presence's binary keys
// everything under "presence:", so a presence of another run on the same
// database would be a second node of one cluster: while this test's
// presence is down, that node, which holds no recovery grace, would end
// this test's sessions at their deadlines, and it would deliver the ends
// of its own sessions to this test's site. The test claims one of the
// databases 9 to 15 with a lock key, deletes what an earlier run left
// there, and deletes what it leaves itself when it ends. The other tests
// use database 0. Without a Redis the test skips, unless CI=true.
func liveRedis(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	for db := 9; db <= 15; db++ {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: db, ContextTimeoutEnabled: true})
		// Longer than the test takes on a loaded machine; a run that is
		// killed leaves the database to others once it expires.
		claimed, err := c.SetNX(ctx, liveRedisLock, token, 5*time.Minute).Result()
		if err != nil {
			c.Close()
			if os.Getenv("CI") == "true" {
				t.Fatalf("no Redis on 127.0.0.1:6379 (%v); CI must start one", err)
			}
			t.Skip("skipped: no Redis on 127.0.0.1:6379")
		}
		if !claimed {
			c.Close()
			continue
		}
		clearPresenceKeys(t, c)
		t.Cleanup(func() {
			clearPresenceKeys(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if got, _ := c.Get(ctx, liveRedisLock).Result(); got == token {
				c.Del(ctx, liveRedisLock)
			}
			c.Close()
		})
		return fmt.Sprintf("redis://127.0.0.1:6379/%d", db)
	}
	t.Fatalf("the Redis databases 9 to 15 are all claimed by other runs (key %s); wait for them, or delete the key where no test runs", liveRedisLock)
	return ""
}

// liveRedisLock is the key with which a run of the outage test claims a
// database; presence's binary writes no key outside "presence:".
const liveRedisLock = "presence-live-test:claimed"

// clearPresenceKeys deletes every key presence wrote in c's database.
func clearPresenceKeys(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, "presence:*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("clear the test's Redis database: %v", err)
			return
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("clear the test's Redis database: %v", err)
	}
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
// 400 ms for d, checking each answers 200, and returns how long each
// took and when the last began.
func workDuring(t *testing.T, b *browser, d time.Duration) (took []time.Duration, last time.Time) {
	t.Helper()
	for start := time.Now(); time.Since(start) < d; time.Sleep(400 * time.Millisecond) {
		last = time.Now()
		if status, body := b.get("/plain/"); status != http.StatusOK {
			t.Fatalf("GET /plain/: %d %s", status, body)
		}
		took = append(took, time.Since(last))
	}
	return took, last
}

// median returns the middle of durations, which it sorts.
func median(durations []time.Duration) time.Duration {
	if len(durations) == 0 {
		return 0
	}
	slices.Sort(durations)
	return durations[len(durations)/2]
}

// waitFor polls cond until it holds, and fails the test with what after
// within. The deadlines of the tests of this folder are generous: they
// run beside Django, Flask and presence processes on machines that may
// be busy, where a second is no promise.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %s", what, within)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
