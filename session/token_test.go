package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/securecookie"

	"github.com/presence-dev/presence/internal/clock"
)

var (
	testSecret  = []byte("test-secret-0123456789abcdefghijklmnop")
	otherSecret = []byte("other-secret-0123456789abcdefghijklmno")
	// t0 is the virtual instant token tests verify at.
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// handToken builds a token by DESIGN.md's recipe, without securecookie:
// base64url (with padding) of ts|b64(json)|HMAC-SHA256(name|ts|b64(json)).
func handToken(secret []byte, name, ts, payload string) string {
	body := ts + "|" + base64.URLEncoding.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(name + "|" + body))
	return base64.URLEncoding.EncodeToString(append([]byte(body+"|"), mac.Sum(nil)...))
}

// stampOf reads the timestamp a token carries, as a helper that did not
// verify it would.
func stampOf(t *testing.T, token string) int64 {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	stamp, _, _ := strings.Cut(string(raw), "|")
	ts, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// tokenAt is a valid presence token for payload, stamped at.
func tokenAt(at time.Time, payload string) string {
	return handToken(testSecret, cookieName, strconv.FormatInt(at.Unix(), 10), payload)
}

func newTestVerifier(t testing.TB, opts VerifierOptions) *Verifier {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = testSecret
	}
	if opts.Clock == nil {
		opts.Clock = clock.NewManual(t0)
	}
	v, err := NewVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkErrorText fails when err's message leaks the token or a secret.
func checkErrorText(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	if len(token) >= 8 && strings.Contains(msg, token) {
		t.Errorf("error %q contains the token", msg)
	}
	for _, s := range [][]byte{testSecret, otherSecret} {
		if strings.Contains(msg, string(s)) {
			t.Errorf("error %q contains a secret", msg)
		}
	}
	if strings.Contains(msg, "securecookie") {
		t.Errorf("error %q leaks securecookie's wording", msg)
	}
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     VerifierOptions
		token    string
		want     Claims
		wantLims Limits
	}{{
		name:     "defaults filled",
		token:    tokenAt(t0, `{"sid":"abc"}`),
		want:     Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600},
		wantLims: Limits{540 * time.Second, 600 * time.Second},
	}, {
		name:  "server defaults filled",
		opts:  VerifierOptions{Defaults: Limits{WarnAfter: 50 * time.Second, ExpireAfter: 70 * time.Second}},
		token: tokenAt(t0, `{"sid":"abc"}`),
		want:  Claims{SID: "abc", WarnAfter: 50, ExpireAfter: 70},
	}, {
		name:     "overrides",
		token:    tokenAt(t0, `{"sid":"a.b_c:d-E9","uid":"u1","warn_after":60,"expire_after":120,"logout_url":"/accounts/logout/?next=/x&y=1"}`),
		want:     Claims{SID: "a.b_c:d-E9", UID: "u1", WarnAfter: 60, ExpireAfter: 120, LogoutURL: "/accounts/logout/?next=/x&y=1"},
		wantLims: Limits{time.Minute, 2 * time.Minute},
	}, {
		name:  "expire only, above default warn",
		token: tokenAt(t0, `{"sid":"abc","expire_after":900}`),
		want:  Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 900},
	}, {
		name:  "warn only, below default expire",
		token: tokenAt(t0, `{"sid":"abc","warn_after":30}`),
		want:  Claims{SID: "abc", WarnAfter: 30, ExpireAfter: 600},
	}, {
		name:  "absolute end",
		token: tokenAt(t0, `{"sid":"abc","end_at":1767225600}`),
		want:  Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600, EndAt: 1767225600},
	}, {
		name:  "unknown fields ignored",
		token: tokenAt(t0, `{"sid":"abc","future_claim":[1,2]}`),
		want:  Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600},
	}, {
		name:  "longest sid and uid",
		token: tokenAt(t0, `{"sid":"`+strings.Repeat("s", 128)+`","uid":"`+strings.Repeat("u", 256)+`"}`),
		want:  Claims{SID: strings.Repeat("s", 128), UID: strings.Repeat("u", 256), WarnAfter: 540, ExpireAfter: 600},
	}, {
		// With the longest sid and uid too, the token would pass 4096 bytes.
		name:  "longest logout_url",
		token: tokenAt(t0, `{"sid":"abc","logout_url":"/`+strings.Repeat("l", 2047)+`"}`),
		want:  Claims{SID: "abc", LogoutURL: "/" + strings.Repeat("l", 2047), WarnAfter: 540, ExpireAfter: 600},
	}, {
		name:  "non-ASCII logout_url",
		token: tokenAt(t0, `{"sid":"abc","logout_url":"/d\u00e9connexion/"}`),
		want:  Claims{SID: "abc", LogoutURL: "/déconnexion/", WarnAfter: 540, ExpireAfter: 600},
	}, {
		name:  "zero-padded timestamp",
		token: handToken(testSecret, cookieName, "000000000000000000000000000000000000"+strconv.FormatInt(t0.Unix(), 10), `{"sid":"abc"}`),
		want:  Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600},
	}, {
		name:  "old secret",
		opts:  VerifierOptions{Secret: otherSecret, OldSecrets: [][]byte{[]byte(strings.Repeat("x", 32)), testSecret}},
		token: tokenAt(t0, `{"sid":"abc"}`),
		want:  Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600},
	}, {
		name:  "exactly max age",
		token: tokenAt(t0.Add(-12*time.Hour), `{"sid":"abc"}`),
		want:  Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600},
	}, {
		name:  "exactly max clock skew ahead",
		token: tokenAt(t0.Add(MaxClockSkew), `{"sid":"abc"}`),
		want:  Claims{SID: "abc", WarnAfter: 540, ExpireAfter: 600},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := newTestVerifier(t, tt.opts).Verify(tt.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			tt.want.IssuedAt = time.Unix(stampOf(t, tt.token), 0).UTC()
			if got != tt.want {
				t.Errorf("Verify = %+v, want %+v", got, tt.want)
			}
			if tt.wantLims != (Limits{}) && got.Limits() != tt.wantLims {
				t.Errorf("Limits = %+v, want %+v", got.Limits(), tt.wantLims)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	ts := strconv.FormatInt(t0.Unix(), 10)
	good := tokenAt(t0, `{"sid":"abc","logout_url":"/logout/"}`)
	raw, _ := base64.URLEncoding.DecodeString(good)
	flip := func(i int) string { // flips a byte of the decoded token
		b := append([]byte(nil), raw...)
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 0x01
		return base64.URLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name  string
		token string
		want  error
		field string // the *ClaimsError's Field, if one is wanted
		text  string // in the message
	}{
		{name: "empty", token: "", want: ErrTokenMissing},
		{name: "wrong secret", token: handToken(otherSecret, cookieName, ts, `{"sid":"abc"}`), want: ErrTokenInvalid, text: "signature"},
		{name: "other cookie name", token: handToken(testSecret, "session", ts, `{"sid":"abc"}`), want: ErrTokenInvalid, text: "signature"},
		{name: "tampered payload", token: flip(len(ts) + 3), want: ErrTokenInvalid, text: "signature"},
		{name: "tampered timestamp", token: flip(len(ts) - 1), want: ErrTokenInvalid, text: "signature"},
		{name: "tampered MAC", token: flip(-1), want: ErrTokenInvalid, text: "signature"},
		{name: "MAC cut", token: base64.URLEncoding.EncodeToString(raw[:len(raw)-1]), want: ErrTokenInvalid, text: "signature"},
		{name: "truncated", token: good[:len(good)/2+1], want: ErrTokenInvalid},
		{name: "not base64", token: "this is not a token", want: ErrTokenInvalid, text: "base64url"},
		{name: "standard alphabet", token: strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/", want: ErrTokenInvalid, text: "base64url"},
		{name: "line break", token: good[:8] + "\n" + good[8:], want: ErrTokenInvalid, text: "base64url"},
		{name: "no padding", token: base64.RawURLEncoding.EncodeToString(append(raw, 'x')), want: ErrTokenInvalid, text: "base64url"},
		{name: "bare pipes", token: base64.URLEncoding.EncodeToString([]byte("||")), want: ErrTokenInvalid, text: "signature"},
		{name: "over 4096 bytes", token: strings.Repeat("A", 4100), want: ErrTokenInvalid, text: "4100 bytes"},
		{name: "timestamp not a number", token: handToken(testSecret, cookieName, "soon", `{"sid":"abc"}`), want: ErrTokenInvalid, text: "timestamp"},
		{name: "payload not JSON", token: tokenAt(t0, `sid=abc`), want: ErrTokenInvalid, text: "payload"},
		{name: "payload empty", token: tokenAt(t0, ``), want: ErrTokenInvalid, text: "payload"},
		{name: "payload an array", token: tokenAt(t0, `["abc"]`), want: ErrTokenInvalid, text: "payload"},
		{name: "payload not UTF-8", token: tokenAt(t0, "{\"sid\":\"a\",\"uid\":\"\xff\"}"), want: ErrTokenInvalid, text: "payload"},
		{name: "payload null", token: tokenAt(t0, `null`), want: ErrTokenInvalid, field: "sid"},
		{name: "sid a number", token: tokenAt(t0, `{"sid":42}`), want: ErrTokenInvalid, field: "sid"},
		{name: "uid an object", token: tokenAt(t0, `{"sid":"a","uid":{}}`), want: ErrTokenInvalid, field: "uid"},
		{name: "warn_after a string", token: tokenAt(t0, `{"sid":"a","warn_after":"60"}`), want: ErrTokenInvalid, field: "warn_after"},
		{name: "expire_after a fraction", token: tokenAt(t0, `{"sid":"a","expire_after":600.5}`), want: ErrTokenInvalid, field: "expire_after"},
		{name: "expire_after past int64", token: tokenAt(t0, `{"sid":"a","expire_after":1e30}`), want: ErrTokenInvalid, field: "expire_after"},
		{name: "sid missing", token: tokenAt(t0, `{"uid":"u"}`), want: ErrTokenInvalid, field: "sid", text: "missing"},
		{name: "sid too long", token: tokenAt(t0, `{"sid":"`+strings.Repeat("s", 129)+`"}`), want: ErrTokenInvalid, field: "sid", text: "129 bytes"},
		{name: "sid with a space", token: tokenAt(t0, `{"sid":"a b"}`), want: ErrTokenInvalid, field: "sid", text: "0x20 at 1"},
		{name: "sid with a slash", token: tokenAt(t0, `{"sid":"a/b"}`), want: ErrTokenInvalid, field: "sid"},
		{name: "sid not ASCII", token: tokenAt(t0, `{"sid":"caf\u00e9"}`), want: ErrTokenInvalid, field: "sid"},
		{name: "uid too long", token: tokenAt(t0, `{"sid":"a","uid":"`+strings.Repeat("u", 257)+`"}`), want: ErrTokenInvalid, field: "uid"},
		{name: "negative end_at", token: tokenAt(t0, `{"sid":"a","end_at":-1}`), want: ErrTokenInvalid, field: "end_at", text: "Unix time in seconds"},
		{name: "end_at in milliseconds", token: tokenAt(t0, `{"sid":"a","end_at":1767225600000}`), want: ErrTokenInvalid, field: "end_at", text: "not milliseconds"},
		{name: "end_at in another case", token: tokenAt(t0, `{"sid":"a","End_At":1}`), want: ErrTokenInvalid, field: "End_At"},
		{name: "logout_url too long", token: tokenAt(t0, `{"sid":"a","logout_url":"/`+strings.Repeat("l", 2048)+`"}`), want: ErrTokenInvalid, field: "logout_url"},
		{name: "logout_url with a line feed", token: tokenAt(t0, `{"sid":"a","logout_url":"/x\ny"}`), want: ErrTokenInvalid, field: "logout_url", text: "control character at byte 2"},
		{name: "logout_url with DEL", token: tokenAt(t0, `{"sid":"a","logout_url":"/x\u007f"}`), want: ErrTokenInvalid, field: "logout_url"},
		{name: "logout_url with a C1 control", token: tokenAt(t0, `{"sid":"a","logout_url":"/x\u0085"}`), want: ErrTokenInvalid, field: "logout_url"},
		{name: "warn_after negative", token: tokenAt(t0, `{"sid":"a","warn_after":-1}`), want: ErrTokenInvalid, field: "warn_after"},
		{name: "expire_after negative", token: tokenAt(t0, `{"sid":"a","expire_after":-600}`), want: ErrTokenInvalid, field: "expire_after"},
		{name: "expire_after over a year", token: tokenAt(t0, `{"sid":"a","expire_after":40000000}`), want: ErrTokenInvalid, field: "expire_after"},
		{name: "warn equals expire", token: tokenAt(t0, `{"sid":"a","warn_after":60,"expire_after":60}`), want: ErrTokenInvalid, field: "warn_after", text: "not less than expire_after"},
		{name: "warn past default expire", token: tokenAt(t0, `{"sid":"a","warn_after":600}`), want: ErrTokenInvalid, field: "warn_after", text: "default expire_after of 600"},
		{name: "expire below default warn", token: tokenAt(t0, `{"sid":"a","expire_after":300}`), want: ErrTokenInvalid, field: "expire_after", text: "default warn_after of 540"},
		{name: "older than max age", token: tokenAt(t0.Add(-12*time.Hour-time.Second), `{"sid":"a"}`), want: ErrTokenTooOld, text: "more than 12h0m0s ago"},
		{name: "ancient", token: handToken(testSecret, cookieName, "-9223372036854775808", `{"sid":"a"}`), want: ErrTokenTooOld, text: "ago"},
		{name: "beyond the clock skew", token: tokenAt(t0.Add(MaxClockSkew+time.Second), `{"sid":"a"}`), want: ErrTokenTooOld, text: "in the future"},
		{name: "far future", token: handToken(testSecret, cookieName, "9223372036854775807", `{"sid":"a"}`), want: ErrTokenTooOld, text: "in the future"},
		{name: "too old beats bad claims", token: tokenAt(t0.Add(-13*time.Hour), `{}`), want: ErrTokenTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := newTestVerifier(t, VerifierOptions{}).Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", c, err, tt.want)
			}
			if c != (Claims{}) {
				t.Errorf("Verify returned claims %+v with its error", c)
			}
			var ce *ClaimsError
			switch {
			case tt.field == "" && errors.As(err, &ce):
				t.Errorf("Verify: %v, a ClaimsError; want a plain %v", err, tt.want)
			case tt.field != "" && !errors.As(err, &ce):
				t.Errorf("Verify: %v, want a ClaimsError for %q", err, tt.field)
			case tt.field != "" && ce.Field != tt.field:
				t.Errorf("ClaimsError.Field = %q, want %q", ce.Field, tt.field)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			checkErrorText(t, err, tt.token)
		})
	}
}

// TestVerifyPython checks a token minted by the README's recipe in Python:
//
//	value = base64.urlsafe_b64encode(json.dumps(claims).encode())
//	body = str(ts).encode() + b"|" + value
//	mac = hmac.new(secret, b"presence|" + body, hashlib.sha256).digest()
//	token = base64.urlsafe_b64encode(body + b"|" + mac).decode()
func TestVerifyPython(t *testing.T) {
	t.Parallel()
	const token = "MTc2NzIyNTYwMHxleUp6YVdRaU9pQWljSGt0YzJWemMybHZiaTB4SWl3Z0luVnBaQ0k2SUNJME1pSXNJQ0ozWVhKdVgyRm1kR1Z5SWpvZ05qQXNJQ0psZUhCcGNtVmZZV1owWlhJaU9pQXhNakFzSUNKc2IyZHZkWFJmZFhKc0lqb2dJaTloWTJOdmRXNTBjeTlzYjJkdmRYUXZJbjA9fIm1fbWxBmUNypnnpI28XLcJj1YPSLn2hLO7FHYzU1Ks"
	v := newTestVerifier(t, VerifierOptions{Secret: []byte("python-secret-0123456789abcdefghij")})
	got, err := v.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{SID: "py-session-1", UID: "42", WarnAfter: 60, ExpireAfter: 120, LogoutURL: "/accounts/logout/", IssuedAt: t0}
	if got != want {
		t.Errorf("Verify = %+v, want %+v", got, want)
	}
}

func TestVerifyMaxAge(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(t0)
	v := newTestVerifier(t, VerifierOptions{MaxAge: time.Hour, Clock: clk})
	if v.MaxAge() != time.Hour {
		t.Errorf("MaxAge = %v, want 1h", v.MaxAge())
	}
	token := tokenAt(t0, `{"sid":"abc"}`)
	if _, err := v.Verify(token); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if _, err := v.Verify(token); err != nil {
		t.Fatalf("at max age: %v", err)
	}
	clk.Advance(time.Second)
	_, err := v.Verify(token)
	if !errors.Is(err, ErrTokenTooOld) || !strings.Contains(err.Error(), "1h0m0s ago") {
		t.Fatalf("past max age: %v, want ErrTokenTooOld", err)
	}
	if d := newTestVerifier(t, VerifierOptions{}).MaxAge(); d != 12*time.Hour {
		t.Errorf("default MaxAge = %v, want 12h", d)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	t.Parallel()
	short := []byte(strings.Repeat("k", 31))
	tests := []struct {
		name string
		opts VerifierOptions
		text string
	}{
		{"no secret", VerifierOptions{}, "secret is 0 bytes"},
		{"short secret", VerifierOptions{Secret: short}, "secret is 31 bytes; it must be at least 32"},
		{"short old secret", VerifierOptions{Secret: testSecret, OldSecrets: [][]byte{otherSecret, short}}, "old secret 2 of 2 is 31 bytes"},
		{"negative max age", VerifierOptions{Secret: testSecret, MaxAge: -time.Second}, "max age"},
		{"warn not below expire", VerifierOptions{Secret: testSecret, Defaults: Limits{WarnAfter: 10 * time.Minute, ExpireAfter: 5 * time.Minute}}, "default limits"},
		{"warn past default expire", VerifierOptions{Secret: testSecret, Defaults: Limits{WarnAfter: 700 * time.Second}}, "expire after (10m0s) must be longer than warn after (11m40s)"},
		{"negative warn", VerifierOptions{Secret: testSecret, Defaults: Limits{WarnAfter: -time.Second}}, "must be positive"},
		{"fractional seconds", VerifierOptions{Secret: testSecret, Defaults: Limits{WarnAfter: 1500 * time.Millisecond, ExpireAfter: 3 * time.Second}}, "whole seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(tt.opts)
			if err == nil {
				t.Fatalf("NewVerifier = %v, want an error", v)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			for _, s := range append([][]byte{tt.opts.Secret}, tt.opts.OldSecrets...) {
				if len(s) > 0 && strings.Contains(err.Error(), string(s)) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

// TestVerifierCopiesSecrets checks that changing the caller's secret slice
// later does not change what the verifier accepts.
func TestVerifierCopiesSecrets(t *testing.T) {
	t.Parallel()
	secret := append([]byte(nil), testSecret...)
	v := newTestVerifier(t, VerifierOptions{Secret: secret})
	secret[0] ^= 0xff
	if _, err := v.Verify(tokenAt(t0, `{"sid":"abc"}`)); err != nil {
		t.Fatal(err)
	}
}

func FuzzVerify(f *testing.F) {
	v := newTestVerifier(f, VerifierOptions{OldSecrets: [][]byte{otherSecret}})
	for _, token := range []string{
		"",
		"not a token",
		tokenAt(t0, `{"sid":"abc","uid":"u","warn_after":60,"expire_after":120,"logout_url":"/logout/"}`),
		tokenAt(t0, `{"sid":"abc","warn_after":-1}`),
		tokenAt(t0, `{"sid":5}`),
		tokenAt(t0, `[]`),
		tokenAt(t0.Add(-13*time.Hour), `{"sid":"abc"}`),
		handToken(otherSecret, cookieName, "00000000000000000000000000001767225600", `{"sid":"abc"}`),
		handToken(testSecret, cookieName, "x", `{"sid":"abc"}`),
		base64.URLEncoding.EncodeToString([]byte("1|2|3")),
	} {
		f.Add(token)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrTokenMissing) && !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenTooOld) {
				t.Fatalf("Verify: %v wraps no sentinel", err)
			}
			if c != (Claims{}) {
				t.Fatalf("Verify returned claims %+v with its error", c)
			}
			checkErrorText(t, err, token)
			return
		}
		if _, err := c.filled(v.defaults); err != nil {
			t.Fatalf("Verify accepted claims that do not validate: %v", err)
		}
		if err := c.Limits().Validate(); err != nil {
			t.Fatalf("Verify accepted limits %+v: %v", c.Limits(), err)
		}
		if age := t0.Sub(c.IssuedAt); age > v.MaxAge() || -age > MaxClockSkew {
			t.Fatalf("Verify accepted a token issued at %v", c.IssuedAt)
		}
	})
}

// BenchmarkVerify verifies a token, beside gorilla/securecookie's Decode
// of it with its JSON serializer alone, which checks neither the claims
// nor their names.
func BenchmarkVerify(b *testing.B) {
	v := newTestVerifier(b, VerifierOptions{})
	token := tokenAt(t0, `{"sid":"0123456789abcdef0123456789abcdef","uid":"1234","warn_after":540,"expire_after":600,"logout_url":"/accounts/logout/"}`)
	b.Run("presence", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("securecookie", func(b *testing.B) {
		codec := securecookie.New(testSecret, nil).MaxAge(0)
		codec.SetSerializer(securecookie.JSONEncoder{})
		b.ReportAllocs()
		for b.Loop() {
			var c Claims
			if err := codec.Decode(cookieName, token, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeClaims reads a token's payload as Verify does, beside
// json.Unmarshal alone, which takes {"sid":"a","SID":"b"} as sid "b".
func BenchmarkDecodeClaims(b *testing.B) {
	payload := []byte(`{"sid":"0123456789abcdef0123456789abcdef","uid":"1234","warn_after":540,"expire_after":600,"logout_url":"/accounts/logout/"}`)
	for name, decode := range map[string]func([]byte, *Claims) error{
		"presence":       decodeClaims,
		"json.Unmarshal": func(data []byte, c *Claims) error { return json.Unmarshal(data, c) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var c Claims
				if err := decode(payload, &c); err != nil || c.ExpireAfter != 600 {
					b.Fatal(c, err)
				}
			}
		})
	}
}

// unmarshalClaimsError is the error Verify gave for json.Unmarshal's err
// when it decoded claims with it: a claim of the wrong type named, if it
// is a string claim or a limit, else a payload that is no claims.
func unmarshalClaimsError(err error) error {
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && (te.Field == "sid" || te.Field == "uid" || te.Field == "logout_url"):
		return &ClaimsError{te.Field, "must be a JSON string"}
	case errors.As(err, &te) && (te.Field == "warn_after" || te.Field == "expire_after"):
		return &ClaimsError{te.Field, "must be a whole number of seconds"}
	}
	return errNotClaims
}

// FuzzVerifySigned signs fuzzed timestamps and payloads with the secret,
// reaching the checks that come after the MAC, which FuzzVerify's random
// tokens rarely pass.
func FuzzVerifySigned(f *testing.F) {
	v := newTestVerifier(f, VerifierOptions{})
	ts := strconv.FormatInt(t0.Unix(), 10)
	f.Add(ts, `{"sid":"abc","uid":"u","warn_after":60,"expire_after":120,"logout_url":"/logout/"}`)
	f.Add(ts, `{"sid":"abc","expire_after":300}`)
	f.Add("+"+ts, `{"sid":"a\u0000"}`)
	f.Add("000000000000000000000000000000"+ts, `{"sid":1}`)
	f.Add("-1", `[]`)
	f.Fuzz(func(t *testing.T, ts, payload string) {
		token := handToken(testSecret, cookieName, ts, payload)
		c, err := v.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenTooOld) {
				t.Fatalf("Verify: %v wraps no sentinel", err)
			}
			checkErrorText(t, err, token)
			return
		}
		if sidProblem(c.SID) != "" || c.Limits().Validate() != nil || len(c.UID) > maxUIDLen || len(c.LogoutURL) > maxLogoutURLLen {
			t.Fatalf("Verify accepted %+v", c)
		}
		if age := t0.Sub(c.IssuedAt); age > v.MaxAge() || -age > MaxClockSkew {
			t.Fatalf("Verify accepted a token issued at %v", c.IssuedAt)
		}
	})
}

// A token older than the max age, but otherwise good, fails with a
// *TooOldError that carries its claims; one stamped in the future fails
// without them.
func TestVerifyTooOldCarriesClaims(t *testing.T) {
	clk := clock.NewManual(time.Now())
	v, err := NewVerifier(VerifierOptions{Secret: testSecret, MaxAge: time.Hour, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Mint(Claims{SID: "s1", UID: "u1", WarnAfter: 60, ExpireAfter: 120})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour)
	_, err = v.Verify(tok)
	var old *TooOldError
	if !errors.As(err, &old) || !errors.Is(err, ErrTokenTooOld) {
		t.Fatalf("Verify of a 2 h old token = %v, want a *TooOldError", err)
	}
	if old.Claims.SID != "s1" || old.Claims.UID != "u1" || old.Claims.ExpireAfter != 120 || old.Claims.WarnAfter != 60 {
		t.Errorf("claims = %+v", old.Claims)
	}
	early, err := NewVerifier(VerifierOptions{Secret: testSecret, MaxAge: time.Hour, Clock: clock.NewManual(clk.Now().Add(-4 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	// To this verifier, the token is stamped 2 h in the future.
	if _, err := early.Verify(tok); !errors.Is(err, ErrTokenTooOld) || errors.As(err, &old) {
		t.Errorf("a token from the future: %v, want ErrTokenTooOld without claims", err)
	}
}

// Verifier.Mint stamps the token with the verifier's clock and signs it
// with the current secret, as securecookie would: Verify and the other
// languages' recipe read it back.
func TestVerifierMint(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	clk := clock.NewManual(start)
	v, err := NewVerifier(VerifierOptions{Secret: testSecret, OldSecrets: [][]byte{otherSecret}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{SID: "s1", UID: "u1", WarnAfter: 60, ExpireAfter: 120, LogoutURL: "/bye"}
	tok, err := v.Mint(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(tok)
	want.IssuedAt = start.UTC()
	if err != nil || got != want {
		t.Fatalf("Verify(Mint) = %+v, %v; want %+v", got, err, want)
	}
	// securecookie, as any application's verifier, reads it the same.
	var decoded Claims
	if err := newCodec(testSecret).Decode(cookieName, tok, &decoded); err != nil || decoded.SID != "s1" || decoded.LogoutURL != "/bye" {
		t.Errorf("securecookie.Decode = %+v, %v", decoded, err)
	}
	if _, err := v.Mint(Claims{SID: "bad sid"}); err == nil {
		t.Error("Mint took a bad sid")
	}
}

// A payload is read as strictly as a frame: a claim in another case, or a
// member given twice, is refused, naming it; other members are ignored.
func TestVerifyStrictClaimNames(t *testing.T) {
	v, err := NewVerifier(VerifierOptions{Secret: testSecret, Clock: clock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(t0.Unix(), 10)
	for payload, field := range map[string]string{
		`{"sid":"a","SID":"b"}`:                          "SID",
		`{"Sid":"a"}`:                                    "Sid",
		`{"sid":"a","sid":"b"}`:                          "sid",
		`{"sid":"a","uid":"u","uid":"v"}`:                "uid",
		`{"sid":"a","Warn_After":5}`:                     "Warn_After",
		`{"sid":"a","expire_after":9,"EXPIRE_AFTER":99}`: "EXPIRE_AFTER",
		`{"\u0073id":"a","sid":"b"}`:                     "sid",
		`{"x":[{"sid":1},"}\"{"],"sid":"a","SID":"b"}`:   "SID",
		` { "sid" : "a" , "uid":"u" ,"Uid" : "v" } `:     "Uid",
		`{"sid":"a","end_at":1,"x":true,"end_at":2}`:     "end_at",
		`{"sid":"a","x":1,"x":{"y":2}}`:                  "x",
		`{"sid":"a","\u0078":1,"x":2}`:                   "x",
	} {
		_, err := v.Verify(handToken(testSecret, cookieName, ts, payload))
		var ce *ClaimsError
		if !errors.As(err, &ce) || ce.Field != field || !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: %v, want a ClaimsError for %q", payload, err, field)
		}
	}
	for _, payload := range []string{
		`{"sid":"a","end_of_days":1,"x":{"sid":"b"}}`,
		`{"sid":"a","x":[1,{"SID":2},[]],"y":"\"SID\"","z":-1.5e3,"w":null,"v":false}`,
	} {
		if c, err := v.Verify(handToken(testSecret, cookieName, ts, payload)); err != nil || c.SID != "a" {
			t.Errorf("%s: %+v, %v; want the members that are no claim ignored", payload, c, err)
		}
	}
}

// FuzzClaimsJSON feeds the payload decoder any bytes: it never panics;
// what it takes has no claim in another case and no member twice; it
// refuses what is not UTF-8; and otherwise it reads what it takes as
// json.Unmarshal does, and refuses what json.Unmarshal refuses with the
// error Verify gave for it when it decoded with json.Unmarshal.
func FuzzClaimsJSON(f *testing.F) {
	for _, seed := range []string{
		`{"sid":"a"}`, `{"sid":"a","SID":"b"}`, `{"sid":"a","sid":"b"}`, `{"sid":"a","x":{"sid":1}}`,
		`{"uid":"\u0053ID"}`, `{"\u0073id":"a","sid":"b"}`, `[]`, `{`, `{"sid":"a"}{}`, `null`,
		`{"sid":"a\"b","uid":"\ud83d\ude00","warn_after":60,"expire_after":-0,"end_at":null,"logout_url":"/x?a=1"}`,
		`{"sid":1,"warn_after":"60","expire_after":1.5,"end_at":1e3}`, "{\"sid\":\"\xff\"}", ` "a" `, `[{"sid":"a"}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c, want Claims
		err := decodeClaims(data, &c)
		wantErr := unmarshalClaimsError(json.Unmarshal(data, &want))
		var ce *ClaimsError
		switch {
		case errors.As(err, &ce) && (strings.Contains(ce.Problem, "another case") || strings.Contains(ce.Problem, "twice")):
			return // refused by name, which json.Unmarshal does not look at
		case !utf8.Valid(data):
			if err == nil {
				t.Fatalf("took %q, which is not UTF-8", data)
			}
			return
		case err == nil && wantErr != nil:
			t.Fatalf("took %s, which json.Unmarshal refuses: %v", data, wantErr)
		case err != nil && wantErr == nil:
			t.Fatalf("refused %s, which json.Unmarshal takes: %v", data, err)
		case err == nil && c != want:
			t.Fatalf("read %s as %+v, json.Unmarshal as %+v", data, c, want)
		case err != nil && err.Error() != wantErr.Error():
			t.Fatalf("refused %s with %v, json.Unmarshal's error gave %v", data, err, wantErr)
		}
		if err != nil {
			return
		}
		// Taken: every top-level name is exactly a claim's, or no claim's
		// in any case, and none comes twice.
		dec := json.NewDecoder(bytes.NewReader(data))
		if tok, _ := dec.Token(); tok != json.Delim('{') {
			return
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return
			}
			name := tok.(string)
			if claimIndex([]byte(name)) < 0 && foldsToClaim([]byte(name)) {
				t.Fatalf("took %q, a claim in another case: %s", name, data)
			}
			if seen[name] {
				t.Fatalf("took %q twice: %s", name, data)
			}
			seen[name] = true
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return
			}
		}
	})
}
