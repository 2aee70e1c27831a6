package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/presence-dev/presence/httpapi"
	"github.com/presence-dev/presence/session"
	"github.com/presence-dev/presence/webhook"
)

// Config is presence's whole configuration. Every field is set from a
// flag or, when the flag is absent, from its PRESENCE_* variable; the
// settings table below is the one place that names them.
type Config struct {
	Addr           string
	Secret         []byte
	OldSecrets     [][]byte
	WarnAfter      time.Duration
	ExpireAfter    time.Duration
	TokenMaxAge    time.Duration
	MaxLifetime    time.Duration // zero: sessions have no absolute end but their tokens'
	AllowedOrigins []string
	Store          string
	LogLevel       string
	LogFormat      string
	APIKey         string
	WebhookURL     string
	WebhookMaxAge  time.Duration
	PassivePaths   []string
	// CookieDomain and CookieSecure are the attributes of the fresh
	// presence cookies /ping hands out.
	CookieDomain string
	CookieSecure httpapi.CookieSecure
	// MaxTabs, MaxTabsPerSession and MaxTabsPerAddress cap the tabs of a
	// node; zero means no cap, and MaxTabs defaults to the open-file limit.
	MaxTabs, MaxTabsPerSession, MaxTabsPerAddress int
	// TrustedProxies name the reverse proxies whose X-Forwarded-For names
	// the client, for the limits kept per client address.
	TrustedProxies httpapi.Proxies
	// TLSCert and TLSKey, when set, make presence serve HTTPS itself, for
	// deployments without a reverse proxy.
	TLSCert, TLSKey string
	// RecoveryGrace is how long idle ends wait after presence starts and
	// after its store answers again; zero means none.
	RecoveryGrace time.Duration
	// DebugAddr, when set, is the loopback address of the profiling
	// listener.
	DebugAddr string
	// Demo serves the demo application at /demo/, with a generated secret
	// when none is set and short timings unless they are set.
	Demo bool
}

// The demo's timings, short enough to watch a session end in a minute,
// and its address, this machine's only unless told otherwise.
const (
	demoWarnAfter   = 20 * time.Second
	demoExpireAfter = 30 * time.Second
	demoAddr        = "127.0.0.1:8765"
)

// minSecretLen is the shortest secret accepted: HMAC-SHA256 wants a key
// of at least its output size.
const minSecretLen = 32

// minAPIKeyLen is the shortest API key accepted.
const minAPIKeyLen = 16

// setting is one row of the configuration table.
type setting struct {
	flag, env, def, usage string
	set                   func(c *Config, value string) error
}

var settings = []setting{
	{"addr", "PRESENCE_ADDR", ":8765", "address to listen on, host:port", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port such as :8765 or 127.0.0.1:8765, got %q", v)
		}
		c.Addr = v
		return nil
	}},
	{"secret", "PRESENCE_SECRET", "", "token signing secret, at least 32 bytes (prefer the variable: flags show in ps)", func(c *Config, v string) error {
		if len(v) < minSecretLen {
			return fmt.Errorf("must be at least %d bytes, got %d; generate one with: head -c 32 /dev/urandom | base64", minSecretLen, len(v))
		}
		if placeholder(v) {
			return errors.New("looks like a placeholder from an example, which anyone can read; generate one with: head -c 32 /dev/urandom | base64")
		}
		c.Secret = []byte(v)
		return nil
	}},
	{"old-secrets", "PRESENCE_OLD_SECRETS", "", "comma-separated former secrets whose tokens are still accepted", func(c *Config, v string) error {
		c.OldSecrets = nil
		for i, s := range splitList(v) {
			if len(s) < minSecretLen {
				return fmt.Errorf("secret number %d is %d bytes; each must be at least %d", i+1, len(s), minSecretLen)
			}
			c.OldSecrets = append(c.OldSecrets, []byte(s))
		}
		return nil
	}},
	{"warn-after", "PRESENCE_WARN_AFTER", "540s", "idle time before tabs are warned (a Go duration or whole seconds)", func(c *Config, v string) (err error) {
		c.WarnAfter, err = parseSeconds(v)
		return err
	}},
	{"expire-after", "PRESENCE_EXPIRE_AFTER", "600s", "idle time before the session expires (a Go duration or whole seconds)", func(c *Config, v string) (err error) {
		c.ExpireAfter, err = parseSeconds(v)
		return err
	}},
	{"max-lifetime", "PRESENCE_MAX_LIFETIME", "0", "the longest a session lives, whatever the activity, from when presence first sees it (a Go duration or whole seconds; 0 for none); a token's earlier end_at stands", func(c *Config, v string) (err error) {
		if v == "0" {
			c.MaxLifetime = 0
			return nil
		}
		c.MaxLifetime, err = parseSeconds(v)
		return err
	}},
	{"token-max-age", "PRESENCE_TOKEN_MAX_AGE", "12h", "oldest token accepted (a Go duration or whole seconds)", func(c *Config, v string) (err error) {
		c.TokenMaxAge, err = parseSeconds(v)
		return err
	}},
	{"allowed-origins", "PRESENCE_ALLOWED_ORIGINS", "", "comma-separated origins (https://app.example.com) or host patterns (*.example.com) allowed besides the server's own host", func(c *Config, v string) error {
		c.AllowedOrigins = nil
		for _, o := range splitList(v) {
			p, err := originPattern(o)
			if err != nil {
				return err
			}
			c.AllowedOrigins = append(c.AllowedOrigins, p)
		}
		return nil
	}},
	{"store", "PRESENCE_STORE", "memory", "where sessions are kept: memory, or a Redis URL shared by several nodes (redis://host:6379/0, redis+cluster://h1:6379,h2:6379, redis+sentinel://h1:26379/mymaster)", func(c *Config, v string) error {
		if v == "memory" {
			c.Store = v
			return nil
		}
		if !strings.Contains(v, "://") {
			return fmt.Errorf("unknown store %q; use memory or a redis:// URL", v)
		}
		client, err := session.OpenRedis(v)
		if err != nil {
			return err
		}
		client.Close()
		c.Store = v
		return nil
	}},
	{"api-key", "PRESENCE_API_KEY", "", "enables the server API at /api/v1/ for Authorization: Bearer <key>; at least 16 characters", func(c *Config, v string) error {
		if len(v) < minAPIKeyLen {
			return fmt.Errorf("must be at least %d characters, got %d", minAPIKeyLen, len(v))
		}
		c.APIKey = v
		return nil
	}},
	{"webhook-url", "PRESENCE_WEBHOOK_URL", "", "where presence POSTs every ended session, signed with the secret", func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("want an absolute http or https URL such as https://app.example.com/hooks/presence, got %s", webhook.Redact(v))
		}
		c.WebhookURL = v
		return nil
	}},
	{"webhook-max-age", "PRESENCE_WEBHOOK_MAX_AGE", "24h", "how long after a session's end its webhook delivery is retried (3xx, 429, 5xx, network errors), then dropped and logged", func(c *Config, v string) (err error) {
		c.WebhookMaxAge, err = parseSeconds(v)
		return err
	}},
	{"passive-paths", "PRESENCE_PASSIVE_PATHS", "", "comma-separated page paths whose load is not activity: exact (/notifications/poll) or prefixes ending in * (/api/live/*)", func(c *Config, v string) error {
		c.PassivePaths = nil
		for _, p := range splitList(v) {
			if !strings.HasPrefix(p, "/") || strings.Contains(strings.TrimSuffix(p, "*"), "*") {
				return fmt.Errorf("path %q must start with / and may only end with *", p)
			}
			c.PassivePaths = append(c.PassivePaths, p)
		}
		return nil
	}},
	{"tls-cert", "PRESENCE_TLS_CERT", "", "a PEM certificate (chain) file: presence serves HTTPS and WSS itself, and reloads it and -tls-key on SIGHUP without dropping tabs; leave it out behind a TLS proxy", func(c *Config, v string) error {
		c.TLSCert = v
		return nil
	}},
	{"tls-key", "PRESENCE_TLS_KEY", "", "the PEM private key file of -tls-cert", func(c *Config, v string) error {
		c.TLSKey = v
		return nil
	}},
	{"cookie-domain", "PRESENCE_COOKIE_DOMAIN", "", "Domain of the fresh presence cookies /ping hands out, as the application sets its own (example.com); empty for none", func(c *Config, v string) error {
		if strings.ContainsAny(v, " ;,/=") {
			return fmt.Errorf("want a domain such as example.com, got %q", v)
		}
		c.CookieDomain = v
		return nil
	}},
	{"cookie-secure", "PRESENCE_COOKIE_SECURE", "auto", "whether those cookies are Secure: auto (when the ping came over HTTPS), true or false", func(c *Config, v string) error {
		switch v {
		case "auto":
			c.CookieSecure = httpapi.CookieSecureAuto
		case "true":
			c.CookieSecure = httpapi.CookieSecureAlways
		case "false":
			c.CookieSecure = httpapi.CookieSecureNever
		default:
			return fmt.Errorf("want auto, true or false, got %q", v)
		}
		return nil
	}},
	{"max-tabs", "PRESENCE_MAX_TABS", "auto", "most tabs this node holds; more are closed with 1013 and reconnect later (auto: the open-file limit less 256)", func(c *Config, v string) error {
		if v == "auto" {
			c.MaxTabs = defaultMaxTabs()
			return nil
		}
		return parseCount(v, &c.MaxTabs)
	}},
	{"max-tabs-per-session", "PRESENCE_MAX_TABS_PER_SESSION", "100", "most tabs of one session on this node", func(c *Config, v string) error {
		return parseCount(v, &c.MaxTabsPerSession)
	}},
	{"max-tabs-per-address", "PRESENCE_MAX_TABS_PER_ADDRESS", "0", "most tabs of one client address on this node; 0 for no cap (intranets put many people behind one address)", func(c *Config, v string) error {
		if v == "0" {
			c.MaxTabsPerAddress = 0
			return nil
		}
		return parseCount(v, &c.MaxTabsPerAddress)
	}},
	{"trusted-proxies", "PRESENCE_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of the reverse proxies whose X-Forwarded-For names the client (10.0.0.0/8,127.0.0.1), for the limits kept per client address; none by default", func(c *Config, v string) (err error) {
		c.TrustedProxies, err = httpapi.ParseProxies(v)
		return err
	}},
	{"recovery-grace", "PRESENCE_RECOVERY_GRACE", "8s", "after presence starts or its store answers again, how long no session ends for idleness, so that tabs and applications can first report what presence missed (a Go duration; 0 for none)", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if v == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 || d > time.Hour {
			return fmt.Errorf("want a Go duration from 0 to 1h such as 8s, got %q", v)
		}
		c.RecoveryGrace = d
		return nil
	}},
	{"debug-addr", "PRESENCE_DEBUG_ADDR", "", "a loopback host:port (127.0.0.1:6060) where presence serves Go's profiles at /debug/pprof/, for finding where memory and CPU go; off by default, and never on a public address", func(c *Config, v string) error {
		if v == "" {
			c.DebugAddr = ""
			return nil
		}
		host, _, err := net.SplitHostPort(v)
		if err != nil {
			return fmt.Errorf("want a loopback host:port such as 127.0.0.1:6060, got %q", v)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("profiles show the process's memory, tokens included: serve them on a loopback address such as 127.0.0.1:6060, not %q", v)
		}
		c.DebugAddr = v
		return nil
	}},
	{"log-level", "PRESENCE_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return fmt.Errorf("want debug, info, warn or error, got %q", v)
	}},
	{"log-format", "PRESENCE_LOG_FORMAT", "json", "json, or console for people", func(c *Config, v string) error {
		switch v {
		case "json", "console":
			c.LogFormat = v
			return nil
		}
		return fmt.Errorf("want json or console, got %q", v)
	}},
}

// configError is a configuration that cannot run; main exits with 2.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// parseConfig reads flags from args and variables through getenv, flags
// winning, then checks the whole. Usage goes to out on -h.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet("presence", flag.ContinueOnError)
	// A mistake gets one line (the error main prints), not the whole
	// usage; -help gets the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	values := make(map[string]string)
	var demo bool
	fs.BoolVar(&demo, "demo", false, "serve a demo application at /demo/ on 127.0.0.1:8765 (unless -addr says otherwise), with a secret of its own and warn/expire after 20s/30s unless set")
	for _, s := range settings {
		usage := s.usage + " [" + s.env + "]"
		fs.Func(s.flag, usage, func(v string) error {
			values[s.flag] = v
			return nil
		})
		if s.def != "" {
			fs.Lookup(s.flag).DefValue = s.def
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fmt.Fprintln(out, "Usage: presence [flags]\n\nEach flag may also be set by its PRESENCE_* variable; flags win.")
			fs.PrintDefaults()
			return Config{}, err
		}
		return Config{}, &configError{err.Error() + "; presence -help lists every setting"}
	}
	if fs.NArg() > 0 {
		return Config{}, &configError{fmt.Sprintf("unexpected argument %q; every setting is a flag such as -addr :8765", fs.Arg(0))}
	}

	c := Config{Demo: demo}
	for _, s := range settings {
		v, source := s.def, ""
		if demo {
			switch s.flag {
			case "addr":
				v = demoAddr // a demo is for this machine's browser only
			case "warn-after":
				v = demoWarnAfter.String()
			case "expire-after":
				v = demoExpireAfter.String()
			}
		}
		if env := getenv(s.env); env != "" {
			v, source = env, s.env
		}
		if fv, ok := values[s.flag]; ok {
			v, source = fv, "-"+s.flag
		}
		if v == "" && s.def == "" {
			continue
		}
		if err := s.set(&c, v); err != nil {
			if source == "" {
				source = "-" + s.flag
			}
			return Config{}, &configError{source + ": " + err.Error()}
		}
	}
	if len(c.Secret) == 0 && demo {
		c.Secret = make([]byte, minSecretLen)
		rand.Read(c.Secret)
	}
	if len(c.Secret) == 0 {
		return Config{}, &configError{"a secret is required: set PRESENCE_SECRET (or -secret) to at least 32 random bytes, the same secret the application signs tokens with"}
	}
	if c.WarnAfter <= 0 || c.ExpireAfter <= c.WarnAfter {
		return Config{}, &configError{fmt.Sprintf("warn-after (%s) must be above zero and below expire-after (%s)", c.WarnAfter, c.ExpireAfter)}
	}
	if c.WarnAfter%time.Second != 0 || c.ExpireAfter%time.Second != 0 {
		return Config{}, &configError{fmt.Sprintf("warn-after (%s) and expire-after (%s) must be whole seconds, as tokens carry them", c.WarnAfter, c.ExpireAfter)}
	}
	if c.TokenMaxAge <= 0 {
		return Config{}, &configError{"token-max-age must be above zero"}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return Config{}, &configError{"-tls-cert and -tls-key go together: set both, or neither behind a TLS proxy"}
	}
	return c, nil
}

// parseSeconds reads a Go duration ("540s", "9m") or whole seconds ("540").
func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 || n > 1<<32 {
			return 0, fmt.Errorf("want a positive number of seconds, got %q", v)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive Go duration such as 540s or 9m, or whole seconds, got %q", v)
	}
	return d, nil
}

// placeholder reports whether a secret looks copied from an example, as
// "change-me" or "your-secret" are, rather than generated.
func placeholder(secret string) bool {
	s := strings.ToLower(secret)
	for _, p := range []string{"change-me", "changeme", "change_me", "placeholder", "your-secret", "yoursecret"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// parseCount reads a positive whole number into n.
func parseCount(v string, n *int) error {
	i, err := strconv.Atoi(v)
	if err != nil || i <= 0 || i > 1<<30 {
		return fmt.Errorf("want a positive whole number, got %q", v)
	}
	*n = i
	return nil
}

// originPattern checks one allowed origin and returns it as
// coder/websocket's OriginPatterns expects.
func originPattern(o string) (string, error) {
	if strings.Contains(o, "://") {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return "", fmt.Errorf("origin %q must be scheme://host[:port] with no path, such as https://app.example.com", o)
		}
		return u.Scheme + "://" + u.Host, nil
	}
	if strings.ContainsAny(o, "/ ") {
		return "", fmt.Errorf("origin %q must be a host pattern such as *.example.com or an origin such as https://app.example.com", o)
	}
	if _, err := path.Match(o, ""); err != nil {
		return "", fmt.Errorf("host pattern %q is malformed: %v", o, err)
	}
	return o, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
