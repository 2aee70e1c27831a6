package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Mint returns a token for c, signed with secret and stamped with the
// current time, as an application written in Go would make one; tests use
// it too. It validates c as Verify does, taking 540 s and 600 s for a
// limit c leaves out, and writes c as given: zero limits stay out of the
// token, so the verifying server's defaults apply. IssuedAt is ignored.
func Mint(secret []byte, c Claims) (string, error) {
	if len(secret) < minSecretLen {
		return "", fmt.Errorf("session: mint: secret is %d bytes; it must be at least %d", len(secret), minSecretLen)
	}
	if _, err := c.filled(Limits{WarnAfter: defaultWarnAfter, ExpireAfter: defaultExpireAfter}); err != nil {
		return "", err
	}
	token, err := newCodec(secret).Encode(cookieName, c)
	if err != nil {
		// securecookie's only failure here is a token over 4096 bytes.
		return "", errors.New("session: mint: the token would be over 4096 bytes; shorten logout_url or uid")
	}
	return token, nil
}

// Mint returns a fresh token for c, signed with the current secret and
// stamped with the verifier's clock, for presence to hand to a live page
// before its token grows old. c is written as given; zero limits stay out
// of the token. IssuedAt is ignored.
func (v *Verifier) Mint(c Claims) (string, error) {
	if _, err := c.filled(v.defaults); err != nil {
		return "", err
	}
	c.IssuedAt = time.Time{}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("session: mint: %w", err)
	}
	// securecookie's format, with the timestamp from the verifier's clock:
	// base64url(ts|base64url(json)|HMAC-SHA256(name|ts|base64url(json))).
	value := base64.URLEncoding.EncodeToString(payload)
	stamp := strconv.FormatInt(v.clock.Now().Unix(), 10)
	mac := hmac.New(sha256.New, v.secret)
	mac.Write([]byte(cookieName + "|" + stamp + "|" + value))
	token := base64.URLEncoding.EncodeToString([]byte(stamp + "|" + value + "|" + string(mac.Sum(nil))))
	if len(token) > maxTokenLen {
		return "", errors.New("session: mint: the token would be over 4096 bytes; shorten logout_url or uid")
	}
	return token, nil
}
