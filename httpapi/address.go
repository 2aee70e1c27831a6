package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose X-Forwarded-For presence trusts
// to name a request's client; the zero value trusts none.
type Proxies struct {
	prefixes []netip.Prefix
}

// ParseProxies reads a comma-separated list of addresses and CIDR ranges
// of trusted reverse proxies, such as "10.0.0.0/8,127.0.0.1".
func ParseProxies(list string) (Proxies, error) {
	var p Proxies
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			addr, err := netip.ParseAddr(item)
			if err != nil {
				return Proxies{}, fmt.Errorf("%q is not an address or a CIDR range such as 10.0.0.0/8", item)
			}
			item = addr.Unmap().String() + "/" + fmt.Sprint(addr.Unmap().BitLen())
		}
		prefix, err := netip.ParsePrefix(item)
		if err != nil {
			return Proxies{}, fmt.Errorf("%q is not an address or a CIDR range such as 10.0.0.0/8", item)
		}
		p.prefixes = append(p.prefixes, prefix.Masked())
	}
	return p, nil
}

func (p Proxies) trusts(addr netip.Addr) bool {
	for _, prefix := range p.prefixes {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// ClientAddress returns the address of the client that made r: the
// connection's peer, or, when the peer is a trusted proxy, the last
// address in X-Forwarded-For that is not one (proxies append the address
// they got the request from, so a client can forge only the addresses
// before it). An address that does not parse is returned as it came.
func (p Proxies) ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !p.trusts(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer.String() // a hop that does not parse: trust nothing before it
		}
		if addr = addr.Unmap(); !p.trusts(addr) {
			return addr.String()
		}
	}
	return peer.String()
}
