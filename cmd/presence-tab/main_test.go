package main

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/session"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var secret = []byte("0123456789abcdef0123456789abcdef")

// The command prints state, warn and expire as a person would watch them,
// against a real presence node with a 1 s warning and a 2 s expiry.
func TestWatchesASessionEnd(t *testing.T) {
	store := session.NewMemoryStore(session.MemoryOptions{})
	defer store.Close()
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	// No recovery grace: the session ends 2 s after the node starts.
	reg, err := hub.New(hub.Options{Store: store, Verifier: verifier, Tick: 10 * time.Millisecond, RecoveryGrace: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	srv := httptest.NewServer(http.HandlerFunc(reg.ServeWS))
	defer srv.Close()

	token, err := session.Mint(secret, session.Claims{SID: "watched", WarnAfter: 1, ExpireAfter: 2, LogoutURL: "/bye"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	err = run(ctx, []string{"-url", url, "-token", token}, &out, func(string) string { return "" })
	var closed *closedError
	if !errors.As(err, &closed) || closed.exitCode() != 3 {
		t.Fatalf("run: %v, want the session's end, exit status 3\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{`{"type":"state","status":"active"`, `{"type":"warn"`, `{"type":"expire","reason":"idle","redirect_url":"/bye"}`, "closed 4410: the session ended"}
	if len(lines) != len(want) {
		t.Fatalf("printed %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %q, want it to contain %q", i, lines[i], w)
		}
	}
}

// An unknown flag is one line naming it and -help, with nothing printed
// besides; -help prints the usage.
func TestUnknownFlagIsOneLine(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), []string{"-port", "8765"}, &out, func(string) string { return "" })
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "-port") || !strings.Contains(err.Error(), "-help") {
		t.Errorf("err = %v, want a usage error naming -port and -help", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q besides the error", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"-help"}, &out, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help: err = %v", err)
	}
	if !strings.Contains(out.String(), "-activity") || !strings.Contains(out.String(), "PRESENCE_TOKEN") {
		t.Errorf("-help printed %q, want every flag", out.String())
	}
}

func TestRequiresAToken(t *testing.T) {
	err := run(context.Background(), nil, &strings.Builder{}, func(string) string { return "" })
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "a token is required") {
		t.Fatalf("err = %v, want a usage error: a token is required", err)
	}
}

// A refused token is a failure a deployment check sees: exit status 4,
// and the close named in the last line.
func TestRefusedTokenExitsNonZero(t *testing.T) {
	store := session.NewMemoryStore(session.MemoryOptions{})
	defer store.Close()
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := hub.New(hub.Options{Store: store, Verifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	srv := httptest.NewServer(http.HandlerFunc(reg.ServeWS))
	defer srv.Close()
	var out strings.Builder
	err = run(context.Background(), []string{"-url", "ws" + strings.TrimPrefix(srv.URL, "http"), "-token", "forged"}, &out, func(string) string { return "" })
	var closed *closedError
	if !errors.As(err, &closed) || closed.exitCode() != 4 {
		t.Fatalf("run: %v, want exit status 4\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "closed 4401: the token was refused") {
		t.Errorf("last line %q, want the close named", last)
	}
}
