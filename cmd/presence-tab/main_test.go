package main

import (
	"context"
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
	if err := run(ctx, []string{"-url", url, "-token", token}, &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{`{"type":"state","status":"active"`, `{"type":"warn"`, `{"type":"expire","reason":"idle","redirect_url":"/bye"}`, "closed 4410"}
	if len(lines) != len(want) {
		t.Fatalf("printed %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %q, want it to contain %q", i, lines[i], w)
		}
	}
}

func TestRequiresAToken(t *testing.T) {
	err := run(context.Background(), nil, &strings.Builder{}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "a token is required") {
		t.Fatalf("err = %v, want a token is required", err)
	}
}
