package hub

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// The caps on tabs, as presence_tabs_refused_total names them.
const (
	capNode    = "node"
	capSession = "session"
	capAddress = "address"
)

// caps bounds the tabs a node holds: in all, per session, and per client
// address. A tab over a cap is closed with 1013 (try again later), which
// the client takes as no contact and retries with backoff.
type caps struct {
	maxTabs, maxPerAddress int
	tabs                   atomic.Int64

	mu        sync.Mutex
	addresses map[string]int // open tabs per client address, when capped
}

// admit counts a new tab from addr, or reports which cap it is over.
func (c *caps) admit(addr string) (refused string) {
	if n := c.tabs.Add(1); c.maxTabs > 0 && n > int64(c.maxTabs) {
		c.tabs.Add(-1)
		return capNode
	}
	if c.maxPerAddress <= 0 {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.addresses[addr] >= c.maxPerAddress {
		c.tabs.Add(-1)
		return capAddress
	}
	if c.addresses == nil {
		c.addresses = make(map[string]int)
	}
	c.addresses[addr]++
	return ""
}

// release uncounts a tab admitted from addr.
func (c *caps) release(addr string) {
	c.tabs.Add(-1)
	if c.maxPerAddress <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.addresses[addr]--; c.addresses[addr] <= 0 {
		delete(c.addresses, addr)
	}
}

// remoteAddress is the default Options.ClientAddress: the connection's
// peer.
func remoteAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
