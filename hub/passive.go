package hub

import "strings"

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
