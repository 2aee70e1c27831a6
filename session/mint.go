package session

import (
	"errors"
	"fmt"
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
