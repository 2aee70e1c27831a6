// Package python holds presence's Python integration, the installable
// package presence-helper, and these tests of it against presence's Go
// code: tokens minted in Python are accepted by a real presence node,
// webhooks signed by presence's Go sender verify in Python, Django sites
// and a Flask application run against a real presence, and the package
// installs as users install it. The folder holds no Go code besides its
// tests.
package python

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/presence-dev/presence/httpapi"
	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/session"
	"github.com/presence-dev/presence/webhook"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if runIncludes(venvTests) {
		go venvOnce.Do(makeVenv)
	}
	goleak.VerifyTestMain(venvWaiter{m}, goleak.Cleanup(func(int) {
		for _, dir := range []string{buildDir, venvDir} {
			if dir != "" {
				os.RemoveAll(dir)
			}
		}
	}))
}

// venvWaiter runs the tests, then waits for the virtual environment that
// TestMain may have started to make, so that it is over before the leak
// check and its folder is removed after it.
type venvWaiter struct{ m *testing.M }

func (w venvWaiter) Run() int {
	code := w.m.Run()
	venvOnce.Do(func() {})
	return code
}

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	other  = []byte("an-older-secret-0123456789abcdef!!")
)

// pythonEnv keeps the tests from writing __pycache__ into the tree.
var pythonEnv = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")

// python3 returns the interpreter's path. Without one the test skips with
// one line, unless CI=true, where it fails.
func python3(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is not installed; CI must provide it")
		}
		t.Skip("skipped: python3 is not installed")
	}
	return path
}

// runPython runs a script that imports presence (this folder is its working
// directory) with stdin, and returns its stdout.
func runPython(t *testing.T, script string, stdin []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python3(t), "-c", "import sys; sys.path.insert(0, '.')\n"+script)
	cmd.Env = pythonEnv
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	return out
}

// unitTests are the Python tests that need nothing but the standard
// library.
var unitTests = []string{"test_tokens", "test_webhook", "test_enforce", "test_api", "test_sender", "test_script"}

// TestPythonUnitTests runs the package's standard-library tests.
func TestPythonUnitTests(t *testing.T) {
	t.Parallel()
	py := python3(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-m", "unittest"}, unitTests...)...)
	cmd.Env = pythonEnv
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest %s: %v\n%s", strings.Join(unitTests, " "), err, out)
	}
}

// mintScript reads a JSON list of mint_token calls on stdin and prints,
// for each, the token or the field ClaimsError names.
const mintScript = `
import json, presence
out = []
for c in json.load(sys.stdin):
    secret = c.pop("secret").encode()
    if c.pop("derive", False):
        c["sid"] = presence.session_id(secret, c["sid"])
    try:
        out.append({"token": presence.mint_token(secret, c.pop("sid"), **c)})
    except presence.ClaimsError as e:
        out.append({"field": e.field})
print(json.dumps(out))
`

type mintCall struct {
	Secret      string `json:"secret"`
	SID         string `json:"sid"`
	Derive      bool   `json:"derive,omitempty"` // sid is a session key to derive it from
	UID         any    `json:"uid,omitempty"`
	WarnAfter   int64  `json:"warn_after,omitempty"`
	ExpireAfter int64  `json:"expire_after,omitempty"`
	LogoutURL   string `json:"logout_url,omitempty"`
	EndAt       int64  `json:"end_at,omitempty"`
}

type mintResult struct {
	Token string `json:"token"`
	Field string `json:"field"`
}

func mintInPython(t *testing.T, calls []mintCall) []mintResult {
	t.Helper()
	in, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	var got []mintResult
	if err := json.Unmarshal(runPython(t, mintScript, in), &got); err != nil || len(got) != len(calls) {
		t.Fatalf("mint script answered %v, %d results for %d calls", err, len(got), len(calls))
	}
	return got
}

// TestPythonTokenAcceptedByPresence mints tokens with the presence package and
// presents them to a real presence node's /ping and to session.Verifier.
func TestPythonTokenAcceptedByPresence(t *testing.T) {
	t.Parallel()
	got := mintInPython(t, []mintCall{
		{Secret: string(secret), SID: "django-session-key", Derive: true, UID: 42, WarnAfter: 20, ExpireAfter: 30, LogoutURL: "/accounts/logout/?next=%2F", EndAt: 1796025600},
		{Secret: string(secret), SID: "plain:sid_1.a-b"},
		{Secret: string(other), SID: "other-secret"},
	})
	for _, r := range got {
		if r.Token == "" {
			t.Fatalf("the presence package refused a valid call: %+v", got)
		}
	}

	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := verifier.Verify(got[0].Token)
	if err != nil {
		t.Fatalf("Verify(python token) = %v", err)
	}
	// backend.SessionID's formula, computed here independently.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("django-session-key"))
	if wantSID := "p1-" + hex.EncodeToString(m.Sum(nil)[:16]); claims.SID != wantSID || claims.UID != "42" ||
		claims.WarnAfter != 20 || claims.ExpireAfter != 30 || claims.LogoutURL != "/accounts/logout/?next=%2F" || claims.EndAt != 1796025600 {
		t.Errorf("claims = %+v", claims)
	}
	if age := time.Since(claims.IssuedAt); age < -time.Second || age > time.Minute {
		t.Errorf("IssuedAt = %v, %v from now", claims.IssuedAt, age)
	}
	claims, err = verifier.Verify(got[1].Token)
	if err != nil || claims.SID != "plain:sid_1.a-b" || claims.UID != "" || claims.WarnAfter != 540 || claims.ExpireAfter != 600 || claims.LogoutURL != "" {
		t.Errorf("Verify(minimal python token) = %+v, %v", claims, err)
	}

	store := session.NewMemoryStore(session.MemoryOptions{})
	t.Cleanup(func() { store.Close() })
	reg, err := hub.New(hub.Options{Store: store, Verifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	api, err := httpapi.New(httpapi.Options{Registry: reg, Verifier: verifier, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	ping := func(token string) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/ping?idleFor=3", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /ping: %s %s", resp.Status, body)
		}
		return string(body)
	}
	for i, r := range got[:2] {
		if body := ping(r.Token); !regexp.MustCompile(`^[0-9]+$`).MatchString(body) {
			t.Errorf("token %d: /ping answered %s, want a bare integer", i, body)
		}
	}
	if body := ping(got[2].Token); body != `"logout"` {
		t.Errorf("token signed with another secret: /ping answered %s, want \"logout\"", body)
	}
}

// TestPythonRefusesWhatPresenceRefuses compares the presence package's validation
// with session.Mint's on claims where both give the same answer (both
// limits, or neither: a lone one is checked against defaults only
// presence knows).
func TestPythonRefusesWhatPresenceRefuses(t *testing.T) {
	t.Parallel()
	cases := []session.Claims{
		{SID: "a"},
		{SID: strings.Repeat("a", 128)},
		{SID: strings.Repeat("a", 129)},
		{SID: "A.z_0:9-"},
		{SID: "a b"},
		{SID: "a/b"},
		{SID: "é"},
		{SID: "s", UID: strings.Repeat("é", 128)},
		{SID: "s", UID: strings.Repeat("é", 128) + "x"},
		{SID: "s", WarnAfter: 1, ExpireAfter: 2},
		{SID: "s", WarnAfter: 2, ExpireAfter: 2},
		{SID: "s", WarnAfter: 3, ExpireAfter: 2},
		{SID: "s", WarnAfter: -1, ExpireAfter: 2},
		{SID: "s", WarnAfter: 1, ExpireAfter: 366 * 24 * 3600},
		{SID: "s", WarnAfter: 1, ExpireAfter: 366*24*3600 + 1},
		{SID: "s", LogoutURL: strings.Repeat("/", 2048)},
		{SID: "s", LogoutURL: strings.Repeat("/", 2049)},
		{SID: "s", LogoutURL: "/a\tb"},
		{SID: "s", LogoutURL: "/a\u0085b"},
		{SID: "s", LogoutURL: "/ä?q=1#x"},
	}
	calls := make([]mintCall, len(cases))
	for i, c := range cases {
		calls[i] = mintCall{Secret: string(secret), SID: c.SID, WarnAfter: c.WarnAfter, ExpireAfter: c.ExpireAfter, LogoutURL: c.LogoutURL}
		if c.UID != "" {
			calls[i].UID = c.UID
		}
	}
	got := mintInPython(t, calls)
	for i, c := range cases {
		_, goErr := session.Mint(secret, c)
		if (goErr == nil) != (got[i].Token != "") {
			t.Errorf("claims %+v: session.Mint error %v; Python %+v", c, goErr, got[i])
		}
	}
}

// verifyScript reads deliveries on stdin and prints, for each, the event
// verify_webhook returns or the code of its WebhookError.
const verifyScript = `
import base64, json, presence
out = []
for d in json.load(sys.stdin):
    try:
        out.append({"event": presence.verify_webhook(base64.b64decode(d["body"]), d["signature"], [s.encode() for s in d["secrets"]])})
    except presence.WebhookError as e:
        out.append({"code": e.code})
print(json.dumps(out))
`

// TestGoWebhookVerifiesInPython delivers an event with webhook.Sender to a
// receiver, then hands what it received to verify_webhook.
func TestGoWebhookVerifiesInPython(t *testing.T) {
	t.Parallel()
	python3(t) // skip before delivering anything
	type delivery struct {
		body      []byte
		signature string
		key       string
	}
	got := make(chan delivery, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{body, r.Header.Get(webhook.SignatureHeader), r.Header.Get("Idempotency-Key")}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	sender, err := webhook.NewSender(webhook.Options{URL: rcv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 1, 15, 8, 0, 0, 123e6, time.UTC)
	sender.Send(context.Background(), webhook.Event{SID: "p1-abc", UID: "42", Reason: "idle", At: at})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sender.Close(ctx); err != nil {
		t.Fatalf("the delivery did not finish: %v", err)
	}
	var d delivery
	select {
	case d = <-got:
	default:
		t.Fatal("nothing delivered")
	}
	if d.key == "" {
		t.Error("no Idempotency-Key")
	}

	tampered := bytes.Replace(d.body, []byte(`"idle"`), []byte(`"logout"`), 1)
	type input struct {
		Body      string   `json:"body"`
		Signature string   `json:"signature"`
		Secrets   []string `json:"secrets"`
	}
	cases := []struct {
		name string
		in   input
		code string // "" means accepted
	}{
		{"as delivered", input{b64(d.body), d.signature, []string{string(secret)}}, ""},
		{"rotation", input{b64(d.body), d.signature, []string{string(other), string(secret)}}, ""},
		{"tampered body", input{b64(tampered), d.signature, []string{string(secret)}}, "mismatch"},
		{"wrong secret", input{b64(d.body), d.signature, []string{string(other)}}, "mismatch"},
		{"no signature", input{b64(d.body), "", []string{string(secret)}}, "no_signature"},
	}
	ins := make([]input, len(cases))
	for i, c := range cases {
		ins[i] = c.in
	}
	stdin, err := json.Marshal(ins)
	if err != nil {
		t.Fatal(err)
	}
	var results []struct {
		Event map[string]string `json:"event"`
		Code  string            `json:"code"`
	}
	if err := json.Unmarshal(runPython(t, verifyScript, stdin), &results); err != nil || len(results) != len(cases) {
		t.Fatalf("verify script answered %v, %d results", err, len(results))
	}
	for i, c := range cases {
		r := results[i]
		if r.Code != c.code {
			t.Errorf("%s: code %q, want %q", c.name, r.Code, c.code)
		}
		if c.code == "" {
			want := map[string]string{"sid": "p1-abc", "uid": "42", "reason": "idle", "at": "2027-01-15T08:00:00.123Z"}
			for k, v := range want {
				if r.Event[k] != v {
					t.Errorf("%s: event[%q] = %q, want %q", c.name, k, r.Event[k], v)
				}
			}
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
