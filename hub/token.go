package hub

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// VerifyToken checks a token a page presents, with hello or to /ping. The
// token max age guards only the sessions presence does not know: a
// validly signed token older than it is accepted when the store holds its
// session, live or ended, so that a page left open all day is never
// refused for its token's age, and one whose session ended learns that it
// ended. The error is the Verifier's, or the store's when it cannot
// answer; TokenErrorCode names the former.
func (r *Registry) VerifyToken(ctx context.Context, token string) (session.Claims, error) {
	claims, err := r.opts.Verifier.Verify(token)
	var old *session.TooOldError
	if err == nil || !errors.As(err, &old) || old.Claims.SID == "" {
		return claims, err
	}
	ctx, cancel := r.callContext(ctx)
	defer cancel()
	snap, serr := r.store.Check(ctx, old.Claims.SID, old.Claims.Limits())
	if serr != nil {
		return session.Claims{}, r.callFailed(serr)
	}
	if snap.EndedNow {
		r.take(old.Claims.SID, old.Claims.Limits(), old.Claims.UID, snap)
	}
	if !snap.Known && !snap.Ended {
		return session.Claims{}, err
	}
	return old.Claims, nil
}

// TokenDue reports whether a token issued at issued should be replaced
// now: it is half the token max age old, or older.
func (r *Registry) TokenDue(issued time.Time) bool {
	return !r.opts.Clock.Now().Before(r.refreshAt(issued))
}

// MintFor returns a fresh token for the session of claims, stamped now.
func (r *Registry) MintFor(claims session.Claims) (string, error) {
	return r.opts.Verifier.Mint(session.Claims{
		SID:         claims.SID,
		UID:         claims.UID,
		WarnAfter:   claims.WarnAfter,
		ExpireAfter: claims.ExpireAfter,
		LogoutURL:   claims.LogoutURL,
	})
}

// refreshAt is when a token issued at issued is due for a fresh one.
func (r *Registry) refreshAt(issued time.Time) time.Time {
	return issued.Add(r.opts.Verifier.MaxAge() / 2)
}

// refreshToken sends the tab a fresh token when its own is due. It runs
// on the wheel's goroutine, from onKeepalive, after hello.
func (t *tab) refreshToken(now time.Time) {
	if now.Before(t.r.refreshAt(t.claims.IssuedAt)) {
		return
	}
	// A tab told its session ended takes no more frames: no fresh token
	// goes out once the session has ended.
	token, err := t.r.MintFor(t.claims)
	if err != nil {
		t.r.log.Error("fresh token not minted", zap.Error(err))
		return
	}
	t.claims.IssuedAt = now
	t.send(protocol.Token{Token: token}.AppendJSON(nil), protocol.TypeToken)
}
