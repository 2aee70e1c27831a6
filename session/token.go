package session

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/presence-dev/presence/internal/clock"
)

// MaxClockSkew is how far in the future a token's timestamp may lie: the
// clock of the application that minted it may run ahead of presence's.
const MaxClockSkew = 5 * time.Minute

var (
	// ErrTokenMissing means no token came with the request.
	ErrTokenMissing = errors.New("session: token missing")
	// ErrTokenInvalid means the token is not a presence token, was signed
	// with another secret, was tampered with or cannot be decoded, or one
	// of its claims is wrong (then the error is a *ClaimsError).
	ErrTokenInvalid = errors.New("session: token invalid")
	// ErrTokenTooOld means the token is older than the verifier's MaxAge,
	// or stamped more than MaxClockSkew in the future; the message says
	// which.
	ErrTokenTooOld = errors.New("session: token too old")
)

const (
	cookieName         = "presence" // the securecookie name bound into every MAC
	maxTokenLen        = 4096
	minSecretLen       = 32
	defaultMaxAge      = 12 * time.Hour
	defaultWarnAfter   = 540 * time.Second
	defaultExpireAfter = 600 * time.Second
)

// VerifierOptions configures NewVerifier.
type VerifierOptions struct {
	// Secret is the securecookie hash key tokens are signed with.
	// Required, at least 32 bytes.
	Secret []byte
	// OldSecrets are still accepted, so a secret can be rotated: each at
	// least 32 bytes. None by default.
	OldSecrets [][]byte
	// MaxAge is how long a token is accepted after it was minted. Zero
	// means 12 h.
	MaxAge time.Duration
	// Defaults fill in the limits a token leaves out; they must be whole
	// seconds. A zero field means 540 s (WarnAfter) or 600 s (ExpireAfter).
	Defaults Limits
	// Clock tells the time tokens are checked against. Nil means
	// clock.System().
	Clock clock.Clock
}

// Verifier checks tokens. All methods may be called concurrently.
type Verifier struct {
	secret   []byte    // the current secret, for Mint
	openers  []*opener // current secret first
	maxAge   time.Duration
	defaults Limits
	clock    clock.Clock
}

// NewVerifier returns a Verifier, or an error that says which option to
// fix: a secret shorter than 32 bytes, a negative MaxAge, or defaults that
// are not whole seconds with 0 < WarnAfter < ExpireAfter.
func NewVerifier(opts VerifierOptions) (*Verifier, error) {
	if len(opts.Secret) < minSecretLen {
		return nil, fmt.Errorf("session: secret is %d bytes; it must be at least %d (use random bytes)", len(opts.Secret), minSecretLen)
	}
	for i, s := range opts.OldSecrets {
		if len(s) < minSecretLen {
			return nil, fmt.Errorf("session: old secret %d of %d is %d bytes; each must be at least %d", i+1, len(opts.OldSecrets), len(s), minSecretLen)
		}
	}
	if opts.MaxAge < 0 {
		return nil, fmt.Errorf("session: token max age is %v; it must be positive, or zero for 12h", opts.MaxAge)
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = defaultMaxAge
	}
	if opts.Defaults.WarnAfter == 0 {
		opts.Defaults.WarnAfter = defaultWarnAfter
	}
	if opts.Defaults.ExpireAfter == 0 {
		opts.Defaults.ExpireAfter = defaultExpireAfter
	}
	if p := opts.Defaults.problem(); p != "" {
		return nil, fmt.Errorf("session: default limits: %s", p)
	}
	if opts.Defaults.WarnAfter%time.Second != 0 || opts.Defaults.ExpireAfter%time.Second != 0 {
		return nil, fmt.Errorf("session: default limits (warn after %v, expire after %v) must be whole seconds, as tokens give them", opts.Defaults.WarnAfter, opts.Defaults.ExpireAfter)
	}
	if opts.Clock == nil {
		opts.Clock = clock.System()
	}
	v := &Verifier{secret: bytes.Clone(opts.Secret), maxAge: opts.MaxAge, defaults: opts.Defaults, clock: opts.Clock}
	for _, s := range append([][]byte{opts.Secret}, opts.OldSecrets...) {
		v.openers = append(v.openers, newOpener(s))
	}
	return v, nil
}

// newCodec returns the securecookie codec of a token secret. Its own
// MaxAge check is off: Verify checks the timestamp against its Clock.
func newCodec(secret []byte) *securecookie.SecureCookie {
	return securecookie.New(bytes.Clone(secret), nil).
		SetSerializer(claimsJSON{}).
		MaxAge(0).
		MaxLength(maxTokenLen)
}

// MaxAge returns how long a token is accepted after it was minted.
func (v *Verifier) MaxAge() time.Duration { return v.maxAge }

// Defaults returns the limits a token without warn_after or expire_after
// gets.
func (v *Verifier) Defaults() Limits { return v.defaults }

// CheckClaims validates claims the application gives outside a token, as
// the server API's entries do, by the rules Verify applies to a token's,
// and returns them with WarnAfter and ExpireAfter filled in from the
// defaults. The error is a *ClaimsError naming the claim.
func (v *Verifier) CheckClaims(c Claims) (Claims, error) {
	return c.filled(v.defaults)
}

// TooOldError is Verify's error for a validly signed token older than
// the max age. When its claims are valid it carries them, since the max
// age guards the sessions presence does not know: a caller that holds the
// token's session as live serves it anyway. errors.Is(err,
// ErrTokenTooOld) is true for it.
type TooOldError struct {
	Claims Claims // filled in as Verify fills them; zero when they are not valid
	MaxAge time.Duration
}

func (e *TooOldError) Error() string {
	return fmt.Sprintf("%v: it was minted more than %v ago (the token max age); mint a fresh token with each page", ErrTokenTooOld, e.MaxAge)
}

// Is makes errors.Is(err, ErrTokenTooOld) true for a *TooOldError.
func (e *TooOldError) Is(target error) bool { return target == ErrTokenTooOld }

// Verify decodes and validates a token. The returned claims have
// WarnAfter and ExpireAfter filled in from the defaults, and IssuedAt set.
// The error wraps ErrTokenMissing, ErrTokenInvalid or ErrTokenTooOld and
// never contains the token; for a token whose only fault is its age it is
// a *TooOldError, with the claims.
func (v *Verifier) Verify(token string) (Claims, error) {
	switch {
	case token == "":
		return Claims{}, ErrTokenMissing
	case len(token) > maxTokenLen:
		return Claims{}, invalid("it is %d bytes, over the limit of %d", len(token), maxTokenLen)
	case !isBase64URL(token):
		return Claims{}, errNotBase64
	}
	ts, payload, err := v.open(token)
	if err != nil {
		return Claims{}, err
	}
	var c Claims
	if err := decodeClaims(payload, &c); err != nil {
		return Claims{}, err
	}
	ageErr := v.checkAge(ts)
	if ageErr != nil && !errors.Is(ageErr, errTooOld) {
		return Claims{}, ageErr
	}
	c, err = c.filled(v.defaults)
	switch {
	case err != nil && ageErr != nil:
		// Its age is the first thing wrong with it.
		return Claims{}, &TooOldError{MaxAge: v.maxAge}
	case err != nil:
		return Claims{}, err
	}
	c.IssuedAt = time.Unix(ts, 0).UTC()
	if ageErr != nil {
		return Claims{}, &TooOldError{Claims: c, MaxAge: v.maxAge}
	}
	return c, nil
}

// errTooOld marks checkAge's error for a token older than the max age, as
// opposed to one stamped in the future.
var errTooOld = errors.New("older than the max age")

// checkAge refuses a token stamped ts (unix seconds) more than MaxAge ago
// or more than MaxClockSkew ahead of the verifier's clock.
func (v *Verifier) checkAge(ts int64) error {
	now := v.clock.Now()
	sec := now.Unix()
	// Compare in whole seconds first, so that no extreme ts overflows.
	tooOld := ts < sec-int64(v.maxAge/time.Second)-1
	tooNew := ts > sec+int64(MaxClockSkew/time.Second)+1
	if !tooOld && !tooNew {
		issued := time.Unix(ts, 0)
		tooOld = now.Sub(issued) > v.maxAge
		tooNew = issued.Sub(now) > MaxClockSkew
	}
	switch {
	case tooOld:
		return errTooOld
	case tooNew:
		return fmt.Errorf("%w: it is stamped more than %v in the future; check the clock of the server that minted it", ErrTokenTooOld, MaxClockSkew)
	}
	return nil
}

var errNotBase64 = invalid("it is not base64url with padding (alphabet A-Z a-z 0-9 - _, padded with =)")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrTokenInvalid}, args...)...)
}

// isBase64URL reports whether every byte of s is in the base64url alphabet
// or '='. Go's base64 decoder would also skip line breaks, and take a
// token a helper broke across lines.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_' || b == '=') {
			return false
		}
	}
	return true
}
