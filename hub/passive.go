package hub

import (
	"strings"

	"github.com/presence-dev/presence/protocol"
)

// passiveHello reports whether a hello, or a join (a hello relayed by the
// tab that holds a shared connection), comes from a passive page: by the
// client's word, or by PassivePaths. Its load is then no activity.
func (r *Registry) passiveHello(f protocol.ClientFrame) bool {
	return f.Passive || r.passive(f.Path)
}

// passive reports whether a page at path is passive by the configured
// PassivePaths: an exact path, or a prefix pattern ending in "*".
func (r *Registry) passive(path string) bool {
	if path == "" {
		return false
	}
	for _, p := range r.opts.PassivePaths {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(path, prefix) {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}
