package python

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/protocol"
)

// The live tests run the Django site of testdata/djangosite.py, set up as
// docs/django.md says, against a real presence process built from this
// module, and check what issue 10 asks of the server side: a login with
// no tab is timed out, requests to pages without presence.js count as
// activity, and an outage of presence slows no request and logs out
// nobody whose session had time left.

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
