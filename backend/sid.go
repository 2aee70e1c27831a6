package backend

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/presence-dev/presence/session"
)

// Mint returns a token for c, signed with secret (presence's -secret), for
// a page to hand to presence.js; it is session.Mint, and refuses claims
// that presence would refuse.
//
// c.SID names the presence session. Derive it from the login session with
// SessionID; never use the login session's key itself: page scripts can
// read the token, and a session key they can read is one a cross-site
// script can steal. Give every login its own SID, as an expired SID stays
// expired for good.
func Mint(secret []byte, c session.Claims) (string, error) {
	return session.Mint(secret, c)
}

// sidPrefix marks a session id made by SessionID, and its version.
const sidPrefix = "p1-"

// SessionID derives an opaque presence session id from sessionKey, the key
// of the application's own login session (the session cookie's value).
// The id is
//
//	"p1-" + hex(HMAC-SHA256(secret, sessionKey)[:16])
//
// 35 characters that fit presence's sid charset, from which sessionKey
// cannot be recovered. Any language can compute it; in Python:
//
//	"p1-" + hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32]
//
// secret should be random, at least 32 bytes, and kept by the application
// alone: not presence's token secret. SessionID panics if secret or
// sessionKey is empty, as the Python helper refuses them: a request
// without a login session has no presence session, and if it were given
// one, all such requests would share it.
func SessionID(secret []byte, sessionKey string) string {
	if len(secret) == 0 {
		panic("backend: SessionID needs a non-empty secret")
	}
	if sessionKey == "" {
		panic("backend: SessionID needs a non-empty session key")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(sessionKey))
	var sum [sha256.Size]byte
	return sidPrefix + hex.EncodeToString(m.Sum(sum[:0])[:16])
}

// validSID reports whether sid is 1 to 128 characters of
// [A-Za-z0-9._:-], as presence requires, and is not "." or "..", which
// cannot name a session in a URL path.
func validSID(sid string) bool {
	if sid == "" || len(sid) > 128 || sid == "." || sid == ".." {
		return false
	}
	for i := 0; i < len(sid); i++ {
		switch b := sid[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9',
			b == '.', b == '_', b == ':', b == '-':
		default:
			return false
		}
	}
	return true
}
