package backend

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/presence-dev/presence/session"
)

func TestSessionID(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	cases := []struct{ name, key string }{
		{"cookie", "k2x9q0v8l1m7n3b6c5z4"},
		{"binary and long", strings.Repeat("\x00\xff|;", 1000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sid := SessionID(secret, c.key)
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(c.key))
			if want := "p1-" + hex.EncodeToString(m.Sum(nil))[:32]; sid != want {
				t.Errorf("SessionID = %q, want %q", sid, want)
			}
			if !validSID(sid) || strings.Contains(sid, c.key) {
				t.Errorf("SessionID = %q: not a valid opaque sid", sid)
			}
			if _, err := Mint(secret, session.Claims{SID: sid}); err != nil {
				t.Errorf("Mint refused the derived sid: %v", err)
			}
		})
	}
	if SessionID(secret, "a") == SessionID([]byte("another secret, 32 bytes or more"), "a") {
		t.Error("the secret does not change the id")
	}
}

func TestSessionIDPanicsOnEmpty(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		secret []byte
		key    string
	}{{nil, "k"}, {[]byte{}, "k"}, {[]byte("s"), ""}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SessionID(%q, %q) did not panic", c.secret, c.key)
				}
			}()
			SessionID(c.secret, c.key)
		}()
	}
}

func TestMint(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := session.NewVerifier(session.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	token, err := Mint(secret, session.Claims{SID: "p1-abc", UID: "42", LogoutURL: "/logout"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(token)
	if err != nil || c.SID != "p1-abc" || c.UID != "42" || c.LogoutURL != "/logout" {
		t.Errorf("Verify(Mint) = %+v, %v", c, err)
	}
	for _, bad := range []session.Claims{{}, {SID: "has space"}, {SID: "a", WarnAfter: 600, ExpireAfter: 60}} {
		if _, err := Mint(secret, bad); err == nil {
			t.Errorf("Mint(%+v) succeeded", bad)
		}
	}
	if _, err := Mint([]byte("short"), session.Claims{SID: "a"}); err == nil {
		t.Error("Mint with a short secret succeeded")
	}
}

func TestValidSID(t *testing.T) {
	t.Parallel()
	for sid, want := range map[string]bool{
		"a": true, "p1-0a": true, "A.b_c:d-9": true, strings.Repeat("x", 128): true,
		"": false, ".": false, "..": false, "...": true, strings.Repeat("x", 129): false,
		"a/b": false, "a b": false, "a%2F": false, "é": false, "a?": false,
	} {
		if got := validSID(sid); got != want {
			t.Errorf("validSID(%q) = %v, want %v", sid, got, want)
		}
	}
}
