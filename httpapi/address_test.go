package httpapi

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies, err := ParseProxies("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		remote, xff, want string
		proxies          Proxies
	}{
		{"203.0.113.7:5000", "", "203.0.113.7", proxies},
		{"203.0.113.7:5000", "1.2.3.4", "203.0.113.7", proxies}, // not a proxy: its header is not trusted
		{"127.0.0.1:5000", "198.51.100.2", "198.51.100.2", proxies},
		{"10.1.2.3:5000", "6.6.6.6, 198.51.100.2, 10.9.9.9", "198.51.100.2", proxies}, // the forged first hop is skipped
		{"10.1.2.3:5000", "", "10.1.2.3", proxies},
		{"10.1.2.3:5000", "garbage, 198.51.100.2", "198.51.100.2", proxies},
		{"10.1.2.3:5000", "198.51.100.2, garbage", "10.1.2.3", proxies},
		{"[::ffff:10.1.2.3]:5000", "198.51.100.2", "198.51.100.2", proxies},
		{"127.0.0.1:5000", "198.51.100.2", "127.0.0.1", Proxies{}}, // no proxy trusted
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := c.proxies.ClientAddress(r); got != c.want {
			t.Errorf("%s with X-Forwarded-For %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) took it", bad)
		}
	}
}
