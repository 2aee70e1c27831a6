// Package session decides whether a person's session is still alive.
//
// Use Verifier to turn a token from a browser into Claims: the session id,
// the session's warn and expire limits and where to send the person on
// expiry. A token is a gorilla/securecookie value, so any language can mint
// one (see Mint for Go); Verify refuses it with ErrTokenMissing,
// ErrTokenInvalid (a *ClaimsError when one claim is wrong) or
// ErrTokenTooOld, and the error message says what to fix.
//
// Use a Store to record activity and to end sessions. Store represents the
// one shared timeline of every session: its last activity, which only moves
// later, and its ended mark, which is for good. Every method answers with a
// Snapshot taken on the store's own clock, and EndedNow is true for exactly
// one caller per session, so that one caller announces the end.
// MemoryStore keeps the timeline for a single node; a Redis store follows
// the same rules for several.
//
// The rules every surface shares live here once: Position says whether a
// session is active, warned or over and how long it has left;
// IdleMillis and IdleSeconds clamp the idle times clients report;
// Limits.Or picks the limits a caller may not know; RequestToken and
// HelloToken say where a request's token is.
//
// Time comes from an internal/clock.Clock, so tests run in virtual time.
package session
