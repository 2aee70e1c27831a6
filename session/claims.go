package session

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Claims is a token's JSON payload.
type Claims struct {
	// SID is the opaque session id: 1 to 128 characters of [A-Za-z0-9._:-].
	SID string `json:"sid"`
	// UID is an optional user id, at most 256 bytes.
	UID string `json:"uid,omitempty"`
	// WarnAfter is in seconds; 0 means the server default.
	WarnAfter int64 `json:"warn_after,omitempty"`
	// ExpireAfter is in seconds; 0 means the server default.
	ExpireAfter int64 `json:"expire_after,omitempty"`
	// LogoutURL is where tabs go on expiry; empty means they reload. At
	// most 2048 bytes, without control characters.
	LogoutURL string `json:"logout_url,omitempty"`
	// EndAt is the session's absolute end, in Unix seconds: it ends then
	// whatever the activity, with reason lifetime. 0 means none. The
	// store keeps the first end it learns of a session: a token minted
	// later cannot move it.
	EndAt int64 `json:"end_at,omitempty"`
	// IssuedAt is the token's securecookie timestamp, set by Verify.
	IssuedAt time.Time `json:"-"`
}

// Limits returns the claims' limits as durations. Verify fills in the
// server's defaults, so the claims it returns give the session's limits.
func (c Claims) Limits() Limits {
	return Limits{
		WarnAfter:   time.Duration(c.WarnAfter) * time.Second,
		ExpireAfter: time.Duration(c.ExpireAfter) * time.Second,
	}
}

// End returns EndAt as a time, or the zero time when there is none.
func (c Claims) End() time.Time {
	if c.EndAt == 0 {
		return time.Time{}
	}
	return time.Unix(c.EndAt, 0)
}

// ClaimsError reports the claim that made a token invalid, and what is
// wrong with it. errors.Is(err, ErrTokenInvalid) is true for it.
type ClaimsError struct {
	Field   string // the claim's JSON name, such as "sid"
	Problem string // what is wrong and how to fix it
}

func (e *ClaimsError) Error() string {
	return fmt.Sprintf("session: token invalid: claim %q %s", e.Field, e.Problem)
}

// Is makes errors.Is(err, ErrTokenInvalid) true for a *ClaimsError.
func (e *ClaimsError) Is(target error) bool { return target == ErrTokenInvalid }

const (
	maxSIDLen       = 128
	maxUIDLen       = 256
	maxLogoutURLLen = 2048
	maxLimitSeconds = int64(maxLimit / time.Second)
	// maxEndAt is the last second of the year 9999: an end_at past it is
	// a mistake (milliseconds for seconds, most likely), and would not
	// fit the stores' unix nanoseconds.
	maxEndAt = 253402300799
)

// filled validates c and returns it with zero limits filled in from def,
// which must be whole seconds.
func (c Claims) filled(def Limits) (Claims, error) {
	if p := sidProblem(c.SID); p != "" {
		return Claims{}, &ClaimsError{"sid", p}
	}
	if len(c.UID) > maxUIDLen {
		return Claims{}, &ClaimsError{"uid", fmt.Sprintf("is %d bytes; it must be at most %d", len(c.UID), maxUIDLen)}
	}
	if len(c.LogoutURL) > maxLogoutURLLen {
		return Claims{}, &ClaimsError{"logout_url", fmt.Sprintf("is %d bytes; it must be at most %d", len(c.LogoutURL), maxLogoutURLLen)}
	}
	if i := strings.IndexFunc(c.LogoutURL, unicode.IsControl); i >= 0 {
		return Claims{}, &ClaimsError{"logout_url", fmt.Sprintf("has a control character at byte %d; percent-encode it", i)}
	}
	defWarn, defExpire := int64(def.WarnAfter/time.Second), int64(def.ExpireAfter/time.Second)
	if p := EndAtProblem(c.EndAt); p != "" {
		return Claims{}, &ClaimsError{"end_at", p}
	}
	if p := secondsProblem(c.WarnAfter, defWarn); p != "" {
		return Claims{}, &ClaimsError{"warn_after", p}
	}
	if p := secondsProblem(c.ExpireAfter, defExpire); p != "" {
		return Claims{}, &ClaimsError{"expire_after", p}
	}
	warn, expire := c.WarnAfter, c.ExpireAfter
	if warn == 0 {
		warn = defWarn
	}
	if expire == 0 {
		expire = defExpire
	}
	if warn >= expire {
		switch {
		case c.WarnAfter == 0:
			return Claims{}, &ClaimsError{"expire_after", fmt.Sprintf("is %d s, not more than the server's default warn_after of %d s; raise it, or set warn_after below it", expire, warn)}
		case c.ExpireAfter == 0:
			return Claims{}, &ClaimsError{"warn_after", fmt.Sprintf("is %d s, not less than the server's default expire_after of %d s; lower it, or set expire_after above it", warn, expire)}
		default:
			return Claims{}, &ClaimsError{"warn_after", fmt.Sprintf("is %d s, not less than expire_after (%d s); it must be less", warn, expire)}
		}
	}
	c.WarnAfter, c.ExpireAfter = warn, expire
	return c, nil
}

// CheckSID reports what is wrong with a session id, as a *ClaimsError for
// the field "sid", or nil when presence accepts it: 1 to 128 bytes of
// A-Z a-z 0-9 . _ : -.
func CheckSID(sid string) error {
	if p := sidProblem(sid); p != "" {
		return &ClaimsError{Field: "sid", Problem: p}
	}
	return nil
}

// sidProblem says what is wrong with a session id, or "".
func sidProblem(sid string) string {
	if sid == "" {
		return "is missing; set it to an opaque id of the application's session"
	}
	if len(sid) > maxSIDLen {
		return fmt.Sprintf("is %d bytes; it must be at most %d", len(sid), maxSIDLen)
	}
	for i := 0; i < len(sid); i++ {
		if !sidByte(sid[i]) {
			return fmt.Sprintf("has byte 0x%02x at %d; it may hold only A-Z a-z 0-9 . _ : -", sid[i], i)
		}
	}
	return ""
}

func sidByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return b == '.' || b == '_' || b == ':' || b == '-'
}

// secondsProblem says what is wrong with a warn_after or expire_after, or "".
func secondsProblem(s, def int64) string {
	switch {
	case s < 0:
		return fmt.Sprintf("is %d; it must be a positive number of seconds, or left out for the server's default of %d", s, def)
	case s > maxLimitSeconds:
		return fmt.Sprintf("is %d s; it must be at most %d s (366 days)", s, maxLimitSeconds)
	}
	return ""
}

// EndAtProblem says what is wrong with an end_at, in Unix seconds, or "":
// 0 (none) or a second from 1970 to the end of the year 9999.
func EndAtProblem(s int64) string {
	switch {
	case s < 0:
		return fmt.Sprintf("is %d; it must be a Unix time in seconds, or left out for no absolute end", s)
	case s > maxEndAt:
		return fmt.Sprintf("is %d, after the year 9999; it must be a Unix time in seconds, not milliseconds", s)
	}
	return ""
}
