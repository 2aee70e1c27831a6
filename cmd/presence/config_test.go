package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

const goodSecret = "0123456789abcdef0123456789abcdef"

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8765" || c.WarnAfter != 540*time.Second || c.ExpireAfter != 600*time.Second ||
		c.TokenMaxAge != 12*time.Hour || c.Store != "memory" || c.LogLevel != "info" || c.LogFormat != "json" ||
		len(c.AllowedOrigins) != 0 || len(c.OldSecrets) != 0 || string(c.Secret) != goodSecret ||
		c.RecoveryGrace != 8*time.Second {
		t.Fatalf("defaults = %+v", c)
	}
	for v, want := range map[string]time.Duration{"0": 0, "0s": 0, "2s": 2 * time.Second} {
		c, err := parseConfig([]string{"-recovery-grace", v}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
		if err != nil || c.RecoveryGrace != want {
			t.Errorf("-recovery-grace %s: %v, %v; want %v", v, c.RecoveryGrace, err, want)
		}
	}
	for _, v := range []string{"-1s", "2h", "soon"} {
		if _, err := parseConfig([]string{"-recovery-grace", v}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard); err == nil {
			t.Errorf("-recovery-grace %s accepted", v)
		}
	}
	if c.MaxLifetime != 0 {
		t.Errorf("-max-lifetime defaults to %v, want none", c.MaxLifetime)
	}
	for v, want := range map[string]time.Duration{"0": 0, "12h": 12 * time.Hour, "43200": 12 * time.Hour} {
		c, err := parseConfig([]string{"-max-lifetime", v}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
		if err != nil || c.MaxLifetime != want {
			t.Errorf("-max-lifetime %s: %v, %v; want %v", v, c.MaxLifetime, err, want)
		}
	}
	for _, v := range []string{"-1h", "forever"} {
		if _, err := parseConfig([]string{"-max-lifetime", v}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard); err == nil {
			t.Errorf("-max-lifetime %s accepted", v)
		}
	}
}

func TestConfigFlagsWinOverEnvironment(t *testing.T) {
	env := envOf(map[string]string{
		"PRESENCE_SECRET":          goodSecret,
		"PRESENCE_ADDR":            "127.0.0.1:9000",
		"PRESENCE_WARN_AFTER":      "100",
		"PRESENCE_EXPIRE_AFTER":    "3m",
		"PRESENCE_ALLOWED_ORIGINS": "https://env.example.com",
		"PRESENCE_OLD_SECRETS":     goodSecret + "-old1, " + goodSecret + "-old2",
	})
	c, err := parseConfig([]string{"-addr", "127.0.0.1:9001", "-warn-after", "20s", "-allowed-origins", "*.example.com,http://127.0.0.1:8000/"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9001" {
		t.Errorf("Addr = %q, want the flag's", c.Addr)
	}
	if c.WarnAfter != 20*time.Second {
		t.Errorf("WarnAfter = %s, want the flag's 20s", c.WarnAfter)
	}
	if c.ExpireAfter != 3*time.Minute {
		t.Errorf("ExpireAfter = %s, want the variable's 3m", c.ExpireAfter)
	}
	if strings.Join(c.AllowedOrigins, " ") != "*.example.com http://127.0.0.1:8000" {
		t.Errorf("AllowedOrigins = %q", c.AllowedOrigins)
	}
	if len(c.OldSecrets) != 2 || string(c.OldSecrets[1]) != goodSecret+"-old2" {
		t.Errorf("OldSecrets = %q", c.OldSecrets)
	}
	c, err = parseConfig([]string{"-passive-paths", "/poll, /api/live/*", "-webhook-url", "https://app.test/hook"}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret, "PRESENCE_API_KEY": "0123456789abcdef"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.PassivePaths, " ") != "/poll /api/live/*" || c.WebhookURL != "https://app.test/hook" || c.APIKey != "0123456789abcdef" {
		t.Errorf("passive paths, webhook, API key = %q %q %q", c.PassivePaths, c.WebhookURL, c.APIKey)
	}
}

func TestConfigErrorsSayWhatToFix(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string // part of the one-line message
	}{
		{"no secret", nil, nil, "a secret is required"},
		{"short secret", nil, map[string]string{"PRESENCE_SECRET": "short"}, "PRESENCE_SECRET: must be at least 32 bytes, got 5"},
		{"short secret flag", []string{"-secret", "short"}, nil, "-secret: must be at least 32 bytes"},
		{"short old secret", nil, map[string]string{"PRESENCE_SECRET": goodSecret, "PRESENCE_OLD_SECRETS": "tiny"}, "PRESENCE_OLD_SECRETS: secret number 1 is 4 bytes"},
		{"warn not below expire", []string{"-warn-after", "600", "-expire-after", "600"}, map[string]string{"PRESENCE_SECRET": goodSecret}, "warn-after (10m0s) must be above zero and below expire-after (10m0s)"},
		{"bad duration", []string{"-warn-after", "soon"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `-warn-after: want a positive Go duration such as 540s or 9m, or whole seconds, got "soon"`},
		{"negative duration", nil, map[string]string{"PRESENCE_SECRET": goodSecret, "PRESENCE_EXPIRE_AFTER": "-5s"}, "PRESENCE_EXPIRE_AFTER: want a positive"},
		{"fractional seconds", []string{"-warn-after", "1500ms"}, map[string]string{"PRESENCE_SECRET": goodSecret}, "must be whole seconds"},
		{"unknown store", []string{"-store", "mongo://x"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `-store: session: redis URL mongo://x: unknown scheme "mongo"; use redis://`},
		{"bad redis URL", []string{"-store", "redis://:pw@host:notaport/0"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `-store: `},
		{"not a URL", []string{"-store", "postgres"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `-store: unknown store "postgres"; use memory or a redis:// URL`},
		{"bad log level", []string{"-log-level", "loud"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `-log-level: want debug, info, warn or error, got "loud"`},
		{"bad addr", []string{"-addr", "8765"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `-addr: want host:port`},
		{"bad origin", []string{"-allowed-origins", "https://x.example.com/path"}, map[string]string{"PRESENCE_SECRET": goodSecret}, "must be scheme://host[:port] with no path"},
		{"bad pattern", []string{"-allowed-origins", "[x"}, map[string]string{"PRESENCE_SECRET": goodSecret}, "host pattern \"[x\" is malformed"},
		{"short API key", []string{"-api-key", "short"}, map[string]string{"PRESENCE_SECRET": goodSecret}, "-api-key: must be at least 16 characters, got 5"},
		{"relative webhook", nil, map[string]string{"PRESENCE_SECRET": goodSecret, "PRESENCE_WEBHOOK_URL": "/hook"}, `PRESENCE_WEBHOOK_URL: want an absolute http or https URL`},
		{"passive path without slash", []string{"-passive-paths", "poll"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `path "poll" must start with / and may only end with *`},
		{"passive path with inner star", []string{"-passive-paths", "/a/*/b"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `path "/a/*/b" must start with /`},
		{"public debug addr", []string{"-debug-addr", ":6060"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `-debug-addr: profiles show the process's memory, tokens included: serve them on a loopback address such as 127.0.0.1:6060, not ":6060"`},
		{"debug addr on a network", []string{"-debug-addr", "10.0.0.5:6060"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `serve them on a loopback address`},
		{"unknown flag", []string{"-port", "1"}, map[string]string{"PRESENCE_SECRET": goodSecret}, "flag provided but not defined: -port"},
		{"stray argument", []string{"serve"}, map[string]string{"PRESENCE_SECRET": goodSecret}, `unexpected argument "serve"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig(c.args, envOf(c.env), io.Discard)
			var ce *configError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a configError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("message %q does not say %q", msg, c.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message %q is more than one line", msg)
			}
			for _, secret := range []string{goodSecret, `short`, `tiny`} {
				if strings.Contains(msg, secret) {
					t.Errorf("message %q repeats a secret", msg)
				}
			}
		})
	}
}

func TestConfigHelp(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"-h"}, envOf(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, s := range settings {
		if !strings.Contains(out.String(), "-"+s.flag) || !strings.Contains(out.String(), s.env) {
			t.Errorf("usage lacks -%s or %s", s.flag, s.env)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{"540": 540 * time.Second, "540s": 540 * time.Second, "9m": 9 * time.Minute, "1h30m": 90 * time.Minute, "250ms": 250 * time.Millisecond} {
		got, err := parseSeconds(in)
		if err != nil || got != want {
			t.Errorf("parseSeconds(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5", "abc", "0s", "99999999999999"} {
		if _, err := parseSeconds(in); err == nil {
			t.Errorf("parseSeconds(%q) succeeded, want an error", in)
		}
	}
}

func TestConfigDemo(t *testing.T) {
	c, err := parseConfig([]string{"-demo"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Demo || len(c.Secret) < minSecretLen || c.WarnAfter != 20*time.Second || c.ExpireAfter != 30*time.Second {
		t.Fatalf("demo config = %+v", c)
	}
	other, _ := parseConfig([]string{"-demo"}, envOf(nil), io.Discard)
	if string(other.Secret) == string(c.Secret) {
		t.Error("two demo runs share a secret; each must generate its own")
	}
	c, err = parseConfig([]string{"-demo", "-expire-after", "45s"}, envOf(map[string]string{"PRESENCE_WARN_AFTER": "15", "PRESENCE_SECRET": goodSecret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.WarnAfter != 15*time.Second || c.ExpireAfter != 45*time.Second || string(c.Secret) != goodSecret {
		t.Errorf("demo timings or secret not overridable: %+v", c)
	}
}

func TestConfigRedisStore(t *testing.T) {
	c, err := parseConfig([]string{"-store", "redis://user:s3cret@127.0.0.1:6379/2"}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "redis://user:s3cret@127.0.0.1:6379/2" {
		t.Errorf("Store = %q", c.Store)
	}
	if got := storeLabel(c.Store); got != "redis://127.0.0.1:6379/2" {
		t.Errorf("storeLabel = %q, want the address and database, no credentials", got)
	}
	if got := storeLabel("memory"); got != "memory" {
		t.Errorf("storeLabel(memory) = %q", got)
	}
}

// A configuration error names what to fix without echoing the secrets a
// URL may hold: only its scheme and host.
func TestConfigErrorsHideURLSecrets(t *testing.T) {
	_, err := parseConfig(nil, envOf(map[string]string{
		"PRESENCE_SECRET":      goodSecret,
		"PRESENCE_WEBHOOK_URL": "ftp://user:hunter2@hooks.example.com/x?token=s3cr3t",
	}), io.Discard)
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "ftp://hooks.example.com") {
		t.Errorf("error = %v, want it to name ftp://hooks.example.com and nothing more", err)
	}
}

// A mistake is one line, with a pointer to -help; a placeholder secret is
// refused; a port in use names the setting that changes it.
func TestConfigMistakesAreOneLine(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"-port", "80"}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), &out)
	if err == nil || out.Len() != 0 || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), "-port") || !strings.Contains(err.Error(), "presence -help") {
		t.Errorf("unknown flag: error %q, printed %q; want one line naming -port and -help, nothing printed", err, out.String())
	}
	_, err = parseConfig(nil, envOf(map[string]string{"PRESENCE_SECRET": "change-me-to-at-least-32-random-bytes"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "placeholder") {
		t.Errorf("the README's old placeholder secret: %v, want it refused", err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = run(context.Background(), []string{"-addr", busy.Addr().String()}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}))
	var ce *configError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "-addr") || !strings.Contains(err.Error(), "PRESENCE_ADDR") {
		t.Errorf("address in use: %v, want a configuration error naming -addr and PRESENCE_ADDR", err)
	}
}
