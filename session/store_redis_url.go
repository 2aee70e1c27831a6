package session

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// OpenRedis returns a client for the Redis that rawURL names, ready for
// RedisOptions.Client. It does not connect; the first call does. The forms:
//
//	redis://[user:password@]host[:port][/db]          one server
//	rediss://[user:password@]host[:port][/db]         one server, over TLS
//	unix://[user:password@]/path/to/redis.sock[?db=N] one server, by socket
//	redis+cluster://[user:password@]host:port[,host:port...]
//	                                                  a Cluster, by some of its nodes
//	rediss+cluster://...                              a Cluster, over TLS
//	redis+sentinel://[user:password@]host:port[,host:port...]/master[/db]
//	                                                  the master that Sentinel
//	                                                  names "master", with failover
//	rediss+sentinel://...                             the same, over TLS
//
// A missing port means 6379, or 26379 for a sentinel. The user and
// password authenticate to the Redis servers; sentinels that require a
// password of their own take the query options sentinel_username and
// sentinel_password. Other query options are go-redis options, named as
// redis.ParseURL documents: dial_timeout=2s, pool_size=50, max_retries=2.
// Special characters in a password are percent-encoded (@ as %40).
//
// The client lets each call's ctx deadline bound it (ContextTimeoutEnabled),
// so that a Redis that stops answering makes calls fail promptly. Errors
// say what to fix and never repeat the password.
func OpenRedis(rawURL string) (client redis.UniversalClient, err error) {
	cfg, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	// go-redis panics on some values it accepts in a URL (a pool size
	// beyond int32); a configuration mistake must not crash the server.
	defer func() {
		if r := recover(); r != nil {
			client, err = nil, fmt.Errorf("session: redis URL %s: %v", cfg.shown, r)
		}
	}()
	switch {
	case cfg.cluster != nil:
		return redis.NewClusterClient(cfg.cluster), nil
	case cfg.failover != nil:
		return redis.NewFailoverClient(cfg.failover), nil
	default:
		return redis.NewClient(cfg.standalone), nil
	}
}

// redisConfig is a parsed Redis URL: exactly one of the options is set.
type redisConfig struct {
	standalone *redis.Options
	cluster    *redis.ClusterOptions
	failover   *redis.FailoverOptions
	shown      string // the URL without its password or query, for errors
}

const redisURLForms = "redis://host:port/db, rediss://host:port/db, unix:///path/to/redis.sock, " +
	"redis+cluster://host1:port,host2:port or redis+sentinel://host1:port,host2:port/master/db"

// redisURL is a Redis URL split by hand, since url.Parse takes one host
// only and its errors repeat the password.
type redisURL struct {
	scheme   string // lower case
	tls      bool   // rediss, rediss+cluster, rediss+sentinel
	userinfo bool   // the URL has user info
	user     string
	password string
	hosts    string // the hosts as written, comma-separated
	path     string // from the first / after the hosts, before ?
	query    string // after ?, without it
	shown    string // scheme://[user:xxxxx@]hosts/path
}

func parseRedisURL(rawURL string) (*redisConfig, error) {
	u, err := splitRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg := &redisConfig{shown: u.shown}
	fail := func(format string, args ...any) (*redisConfig, error) {
		return nil, fmt.Errorf("session: redis URL %s: %s", u.shown, fmt.Sprintf(format, args...))
	}
	query, err := url.ParseQuery(u.query)
	if err != nil {
		// The message could quote part of a password given as an option.
		return fail("its query does not parse: separate options with & and percent-encode their values")
	}
	switch u.scheme {
	case "redis", "rediss", "unix":
		if strings.Contains(u.hosts, ",") {
			return fail("several hosts need redis+cluster:// or redis+sentinel://")
		}
		if _, err := url.Parse(rawURL); err != nil {
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err // without uerr.URL, which holds the password
			}
			return fail("%v", err)
		}
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return fail("%v", err)
		}
		o.ContextTimeoutEnabled = true
		cfg.standalone = o
	case "redis+cluster", "rediss+cluster":
		addrs, err := redisAddrs(u.hosts, "6379")
		if err != nil {
			return fail("%v", err)
		}
		if strings.Trim(u.path, "/") != "" {
			return fail("a Cluster has only database 0; remove the path %q", u.path)
		}
		for _, a := range addrs[1:] {
			query.Add("addr", a)
		}
		o, err := redis.ParseClusterURL(goRedisURL(u.tls, addrs[0], "", query))
		if err != nil {
			return fail("%v", err)
		}
		o.Username, o.Password = u.user, u.password
		o.ContextTimeoutEnabled = true
		cfg.cluster = o
	case "redis+sentinel", "rediss+sentinel":
		addrs, err := redisAddrs(u.hosts, "26379")
		if err != nil {
			return fail("%v", err)
		}
		master, db, _ := strings.Cut(strings.TrimPrefix(u.path, "/"), "/")
		if master, err = url.PathUnescape(master); err != nil || master == "" {
			return fail("name the master after the sentinels: redis+sentinel://host1:26379,host2:26379/mymaster")
		}
		if db != "" {
			if n, err := strconv.Atoi(db); err != nil || n < 0 {
				return fail("the database %q after the master's name is not a number", db)
			}
		}
		for _, name := range []string{"route_by_latency", "route_randomly", "replica_only"} {
			if query.Has(name) {
				return fail("option %s routes calls to replicas, which the store cannot use; remove it", name)
			}
		}
		sentinelUser, sentinelPassword := query.Get("sentinel_username"), query.Get("sentinel_password")
		query.Del("sentinel_username")
		query.Del("sentinel_password")
		query.Set("master_name", master)
		for _, a := range addrs[1:] {
			query.Add("addr", a)
		}
		o, err := redis.ParseFailoverURL(goRedisURL(u.tls, addrs[0], db, query))
		if err != nil {
			return fail("%v", err)
		}
		if u.userinfo {
			o.Username, o.Password = u.user, u.password
		}
		o.SentinelUsername, o.SentinelPassword = sentinelUser, sentinelPassword
		o.ContextTimeoutEnabled = true
		cfg.failover = o
	default:
		return fail("unknown scheme %q; use %s", u.scheme, redisURLForms)
	}
	return cfg, nil
}

// splitRedisURL splits rawURL into its parts, as url.Parse would but with
// several hosts allowed, and decodes the user info.
func splitRedisURL(rawURL string) (redisURL, error) {
	var u redisURL
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok || scheme == "" {
		return u, fmt.Errorf("session: redis URL: it must start with a scheme; use %s", redisURLForms)
	}
	u.scheme = strings.ToLower(scheme)
	u.tls = strings.HasPrefix(u.scheme, "rediss")
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	rest, u.query, _ = strings.Cut(rest, "?")
	authority := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, u.path = rest[:i], rest[i:]
	}
	u.hosts = authority
	shownUser := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		u.userinfo = true
		userinfo := authority[:i]
		u.hosts = authority[i+1:]
		user, password, hasPassword := strings.Cut(userinfo, ":")
		shownUser = user + "@"
		if hasPassword {
			shownUser = user + ":xxxxx@"
		}
		var err1, err2 error
		u.user, err1 = url.PathUnescape(user)
		u.password, err2 = url.PathUnescape(password)
		if err1 != nil || err2 != nil {
			return u, fmt.Errorf("session: redis URL %s://%s%s: the user name or password is not percent-encoded correctly; write %% as %%25, @ as %%40, : as %%3A, / as %%2F",
				u.scheme, shownUser, u.hosts)
		}
	}
	u.shown = u.scheme + "://" + shownUser + u.hosts + u.path
	return u, nil
}

// redisAddrs returns the comma-separated hosts as host:port addresses,
// with defaultPort where a port is missing.
func redisAddrs(hosts, defaultPort string) ([]string, error) {
	if hosts == "" {
		return nil, errors.New("name at least one host:port")
	}
	var addrs []string
	for h := range strings.SplitSeq(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("empty host in %q; separate hosts with single commas", hosts)
		}
		bracketed := strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]")
		if bracketed || !strings.Contains(h, ":") {
			h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]") // an IPv6 literal without a port
			h = net.JoinHostPort(h, defaultPort)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return nil, fmt.Errorf("host %q is not host:port (an IPv6 address goes in brackets: [::1]:6379)", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("host %q has no valid port", h)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	return addrs, nil
}

// goRedisURL builds the single-host URL go-redis's parsers take, without
// credentials: those are set on the options afterwards.
func goRedisURL(tls bool, addr, db string, query url.Values) string {
	u := url.URL{Scheme: "redis", Host: addr, RawQuery: query.Encode()}
	if tls {
		u.Scheme = "rediss"
	}
	if db != "" {
		u.Path = "/" + db
	}
	return u.String()
}
