package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
)

func TestMintRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claims Claims
		want   Claims
	}{
		{"defaults", Claims{SID: "abc"}, Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600}},
		{"everything", Claims{SID: "s-1", UID: "u", WarnAfter: 60, ExpireAfter: 90, LogoutURL: "/bye/?a=1&b=<2>"},
			Claims{SID: "s-1", UID: "u", WarnAfter: 60, ExpireAfter: 90, LogoutURL: "/bye/?a=1&b=<2>"}},
		{"IssuedAt ignored", Claims{SID: "abc", IssuedAt: t0}, Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Mint stamps the wall clock, so virtual time starts there.
			start := time.Now()
			token, err := Mint(testSecret, tt.claims)
			if err != nil {
				t.Fatal(err)
			}
			clk := clock.NewManual(start)
			got, err := newTestVerifier(t, VerifierOptions{Clock: clk}).Verify(token)
			if err != nil {
				t.Fatal(err)
			}
			if age := start.Sub(got.IssuedAt); age < 0 || age > 2*time.Second {
				t.Errorf("IssuedAt = %v, %v before minting", got.IssuedAt, age)
			}
			got.IssuedAt = time.Time{}
			if got != tt.want {
				t.Errorf("Verify(Mint) = %+v, want %+v", got, tt.want)
			}
			clk.Advance(12*time.Hour + 2*time.Second)
			if _, err := newTestVerifier(t, VerifierOptions{Clock: clk}).Verify(token); !errors.Is(err, ErrTokenTooOld) {
				t.Errorf("Verify 12 h later: %v, want ErrTokenTooOld", err)
			}
		})
	}
}

// TestMintFollowsRecipe takes a minted token apart by DESIGN.md's recipe,
// and checks that limits left out stay out, for the server's defaults.
func TestMintFollowsRecipe(t *testing.T) {
	t.Parallel()
	token, err := Mint(testSecret, Claims{SID: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("not base64url with padding: %v", err)
	}
	parts := bytes.SplitN(raw, []byte("|"), 3)
	if len(parts) != 3 {
		t.Fatalf("decoded token has %d parts, want ts|value|mac", len(parts))
	}
	mac := hmac.New(sha256.New, testSecret)
	mac.Write([]byte("presence|" + string(parts[0]) + "|" + string(parts[1])))
	if !hmac.Equal(mac.Sum(nil), parts[2]) {
		t.Error("MAC is not HMAC-SHA256(presence|ts|value)")
	}
	payload, err := base64.URLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(payload)), `{"sid":"abc"}`; got != want {
		t.Errorf("payload = %s, want %s", got, want)
	}
}

func TestMintRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret []byte
		claims Claims
		field  string // the *ClaimsError's Field, if one is wanted
		text   string
	}{
		{"short secret", testSecret[:31], Claims{SID: "abc"}, "", "secret is 31 bytes"},
		{"no sid", testSecret, Claims{}, "sid", "missing"},
		{"bad sid", testSecret, Claims{SID: "a b"}, "sid", "A-Z a-z 0-9 . _ : -"},
		{"warn not below expire", testSecret, Claims{SID: "a", WarnAfter: 90, ExpireAfter: 60}, "warn_after", "not less than expire_after"},
		{"expire below default warn", testSecret, Claims{SID: "a", ExpireAfter: 300}, "expire_after", "default warn_after of 540"},
		{"negative", testSecret, Claims{SID: "a", WarnAfter: -5}, "warn_after", "positive"},
		{"control character", testSecret, Claims{SID: "a", LogoutURL: "/\t"}, "logout_url", "control"},
		{"too long", testSecret, Claims{SID: strings.Repeat("s", 128), UID: strings.Repeat("u", 256), LogoutURL: strings.Repeat("&", 2048)}, "", "over 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token, err := Mint(tt.secret, tt.claims)
			if err == nil {
				t.Fatalf("Mint = %q, want an error", token)
			}
			var ce *ClaimsError
			if got := errors.As(err, &ce); got != (tt.field != "") || got && ce.Field != tt.field {
				t.Errorf("Mint: %v; want a ClaimsError for %q", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			checkErrorText(t, err, "")
		})
	}
}
