package session

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestOpenRedis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url   string
		check func(t *testing.T, c *redisConfig)
	}{
		{"redis://localhost:6380/2", func(t *testing.T, c *redisConfig) {
			o := c.standalone
			if o.Addr != "localhost:6380" || o.DB != 2 || o.TLSConfig != nil || o.Password != "" {
				t.Errorf("got %s db %d tls %v", o.Addr, o.DB, o.TLSConfig != nil)
			}
		}},
		{"redis://app:p%40ss%3Aword@redis.internal", func(t *testing.T, c *redisConfig) {
			o := c.standalone
			if o.Addr != "redis.internal:6379" || o.Username != "app" || o.Password != "p@ss:word" {
				t.Errorf("got %s user %q password %q", o.Addr, o.Username, o.Password)
			}
		}},
		{"rediss://:secret@cache.example.com:6380?dial_timeout=2s&pool_size=7", func(t *testing.T, c *redisConfig) {
			o := c.standalone
			if o.TLSConfig == nil || o.TLSConfig.ServerName != "cache.example.com" || o.Password != "secret" {
				t.Errorf("got TLS %+v, password %q", o.TLSConfig, o.Password)
			}
			if o.DialTimeout != 2*time.Second || o.PoolSize != 7 {
				t.Errorf("query options: dial timeout %v, pool size %d", o.DialTimeout, o.PoolSize)
			}
		}},
		{"unix:///run/redis.sock?db=3", func(t *testing.T, c *redisConfig) {
			if o := c.standalone; o.Network != "unix" || o.Addr != "/run/redis.sock" || o.DB != 3 {
				t.Errorf("got %s %s db %d", o.Network, o.Addr, o.DB)
			}
		}},
		{"redis+cluster://app:secret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002", func(t *testing.T, c *redisConfig) {
			o := c.cluster
			if strings.Join(o.Addrs, " ") != "10.0.0.1:7000 10.0.0.2:7001 [::1]:7002" {
				t.Errorf("Addrs = %q", o.Addrs)
			}
			if o.Username != "app" || o.Password != "secret" || o.TLSConfig != nil {
				t.Errorf("user %q password %q tls %v", o.Username, o.Password, o.TLSConfig != nil)
			}
		}},
		{"rediss+cluster://node-a,node-b/?max_redirects=5", func(t *testing.T, c *redisConfig) {
			o := c.cluster
			if strings.Join(o.Addrs, " ") != "node-a:6379 node-b:6379" || o.TLSConfig == nil || o.MaxRedirects != 5 {
				t.Errorf("Addrs %q, tls %v, max redirects %d", o.Addrs, o.TLSConfig != nil, o.MaxRedirects)
			}
		}},
		{"redis+sentinel://:secret@s1,s2:26380/my%20master/3?sentinel_password=spw&dial_timeout=1", func(t *testing.T, c *redisConfig) {
			o := c.failover
			if strings.Join(o.SentinelAddrs, " ") != "s1:26379 s2:26380" || o.MasterName != "my master" || o.DB != 3 {
				t.Errorf("sentinels %q master %q db %d", o.SentinelAddrs, o.MasterName, o.DB)
			}
			if o.Password != "secret" || o.SentinelPassword != "spw" || o.DialTimeout != time.Second {
				t.Errorf("password %q sentinel password %q dial timeout %v", o.Password, o.SentinelPassword, o.DialTimeout)
			}
		}},
		{"rediss+sentinel://s1:26379/mymaster", func(t *testing.T, c *redisConfig) {
			o := c.failover
			if o.MasterName != "mymaster" || o.DB != 0 || o.TLSConfig == nil || o.Password != "" || o.SentinelPassword != "" {
				t.Errorf("master %q db %d tls %v", o.MasterName, o.DB, o.TLSConfig != nil)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseRedisURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
			if strings.Contains(cfg.shown, "secret") {
				t.Errorf("shown URL %q holds the password", cfg.shown)
			}
			c, err := OpenRedis(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			switch c := c.(type) {
			case *redis.ClusterClient:
				if cfg.cluster == nil || !c.Options().ContextTimeoutEnabled || len(c.Options().Addrs) != len(cfg.cluster.Addrs) {
					t.Errorf("a cluster client with %+v", c.Options())
				}
			case *redis.Client:
				o := c.Options()
				if !o.ContextTimeoutEnabled {
					t.Error("ContextTimeoutEnabled is off")
				}
				switch {
				case cfg.standalone != nil && o.Addr != cfg.standalone.Addr:
					t.Errorf("client Addr %q, want %q", o.Addr, cfg.standalone.Addr)
				case cfg.failover != nil && (o.Addr != "FailoverClient" || o.Password != cfg.failover.Password || o.DB != cfg.failover.DB):
					t.Errorf("a failover client with Addr %q, DB %d", o.Addr, o.DB)
				}
			default:
				t.Errorf("OpenRedis returned a %T", c)
			}
		})
	}
}

// TestOpenRedisErrors checks that a wrong URL gets an error saying what to
// fix, which never repeats the password.
func TestOpenRedisErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"", "must start with a scheme"},
		{"localhost:6379", "must start with a scheme"},
		{"http://u:secret@localhost", `unknown scheme "http"`},
		{"redis://u:secret@localhost:port", `invalid port ":port"`},
		{"redis://u:sec%zzret@localhost", "not percent-encoded correctly"},
		{"redis://u:secret@localhost/x", "invalid database number"},
		{"redis://u:secret@localhost?bogus=1", "unexpected option: bogus"},
		{"redis://u:secret@localhost?pool_size=99999999999", "PoolSize"},
		{"redis://u:secret@a,b", "several hosts need redis+cluster"},
		{"redis://u:secret@a?x=%zz", "query does not parse"},
		{"redis+cluster://u:secret@", "name at least one host"},
		{"redis+cluster://u:secret@a:7000,,b:7000", "empty host"},
		{"redis+cluster://u:secret@a:7000/1", "only database 0"},
		{"redis+cluster://u:secret@a:99999", "no valid port"},
		{"redis+cluster://u:secret@::1", "is not host:port"},
		{"redis+sentinel://u:secret@s1:26379", "name the master"},
		{"redis+sentinel://u:secret@s1:26379/m/x", `database "x"`},
		{"redis+sentinel://u:secret@s1:26379/m?route_randomly=true", "route_randomly routes calls to replicas"},
		{"redis+sentinel://u:secret@s1:26379/m?bogus=1", "unexpected option: bogus"},
	}
	for _, tt := range tests {
		c, err := OpenRedis(tt.url)
		if err == nil {
			c.Close()
			t.Errorf("OpenRedis(%q): no error", tt.url)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "session: redis URL") || !strings.Contains(msg, tt.want) {
			t.Errorf("OpenRedis(%q): %q, want a session: redis URL error with %q", tt.url, msg, tt.want)
		}
		if strings.Contains(msg, "secret") || strings.Contains(msg, "sec%zz") {
			t.Errorf("OpenRedis(%q): %q repeats the password", tt.url, msg)
		}
	}
}
