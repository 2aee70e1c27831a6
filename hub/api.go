package hub

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/session"
)

// APIPrefix is where ServeAPI is mounted.
const APIPrefix = "/api/v1/"

// maxAPIBody bounds a request body of the server API.
const maxAPIBody = 64 << 10

// apiSession is a session as the server API shows it.
type apiSession struct {
	SID        string    `json:"sid"`
	Status     string    `json:"status"` // active, warning, expired or unknown
	IdleS      int64     `json:"idle_s"`
	Tabs       int       `json:"tabs"`
	ExpireInS  int64     `json:"expire_in_s"`
	Error      *apiError `json:"error,omitempty"`
	httpStatus int
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ServeAPI returns the server API for the application's backend, which
// authenticates with Authorization: Bearer key. Mount it at APIPrefix:
//
//	GET  /api/v1/sessions/{sid}           the session's state
//	POST /api/v1/sessions/{sid}/activity  {"idle_s": N}: activity the application saw
//	POST /api/v1/sessions/{sid}/logout    {"reason": "logout"|"revoked"}: end it in every tab now
//
// Every answer is JSON; an error is {"error": {"code", "message"}}.
func (r *Registry) ServeAPI(key string) http.Handler {
	want := sha256.Sum256([]byte(key))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		auth, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(strings.TrimSpace(auth)))
		if !ok || key == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="presence"`)
			writeAPIError(w, http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <the PRESENCE_API_KEY>")
			return
		}
		r.serveAPI(w, req)
	})
}

func (r *Registry) serveAPI(w http.ResponseWriter, req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, APIPrefix+"sessions/")
	sid, action, _ := strings.Cut(rest, "/")
	if !ok || sid == "" {
		writeAPIError(w, http.StatusNotFound, "not_found", "no such endpoint; use /api/v1/sessions/{sid}, /activity or /logout")
		return
	}
	method := http.MethodPost
	if action == "" {
		method = http.MethodGet
	} else if action != "activity" && action != "logout" {
		writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no such endpoint %q; use activity or logout", action))
		return
	}
	if req.Method != method {
		w.Header().Set("Allow", method)
		writeAPIError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use "+method)
		return
	}
	if err := session.CheckSID(sid); err != nil {
		var ce *session.ClaimsError
		errors.As(err, &ce)
		writeAPIError(w, http.StatusBadRequest, "bad_request", "sid "+ce.Problem)
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), storeTimeout)
	defer cancel()

	var (
		snap session.Snapshot
		err  error
	)
	// Without a hub here, this node does not know the session's limits:
	// zero Limits make the store use the session's own, so that a read
	// from the wrong node never ends a session early.
	lim, uid := r.limitsOf(sid)
	switch action {
	case "":
		snap, err = r.opts.Store.Check(ctx, sid, lim)
	case "activity":
		var body struct {
			IdleS *int64 `json:"idle_s"`
		}
		if !decodeAPIBody(w, req, &body) {
			return
		}
		// As idleFor: absent means now, negative counts as 0.
		idle := time.Duration(0)
		if n := body.IdleS; n != nil && *n > 0 {
			idle = maxIdle
			if *n < int64(maxIdle/time.Second) {
				idle = time.Duration(*n) * time.Second
			}
		}
		if lim == (session.Limits{}) {
			// Touch needs limits: the session's own, or for a session the
			// store does not know, the server's defaults.
			if snap, err = r.opts.Store.Check(ctx, sid, lim); err == nil {
				lim = snap.Limits
				if lim == (session.Limits{}) {
					lim = r.opts.Verifier.Defaults()
				}
			}
		}
		if err == nil {
			snap, err = r.opts.Store.Touch(ctx, sid, idle, lim)
		}
	case "logout":
		var body struct {
			Reason string `json:"reason"`
		}
		if !decodeAPIBody(w, req, &body) {
			return
		}
		reason := session.Reason(body.Reason)
		switch reason {
		case "":
			reason = session.ReasonLogout
		case session.ReasonLogout, session.ReasonRevoked:
		default:
			writeAPIError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("reason %q: use logout or revoked", body.Reason))
			return
		}
		snap, err = r.opts.Store.End(ctx, sid, reason, lim)
	}
	if err != nil {
		r.log.Warn("store unavailable; API request failed", zap.Error(err))
		w.Header().Set("Retry-After", "5")
		writeAPIError(w, http.StatusServiceUnavailable, "store_unavailable", "presence cannot reach its store; try again shortly")
		return
	}
	if snap.Limits != (session.Limits{}) {
		lim = snap.Limits
	} else if lim == (session.Limits{}) {
		lim = r.opts.Verifier.Defaults()
	}
	r.observe(sid, lim, uid, snap)
	s := r.describe(sid, lim, snap)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.httpStatus)
	json.NewEncoder(w).Encode(s)
}

// limitsOf returns the limits and user of sid as this node knows them
// from its hub, or zero Limits when it holds no hub of sid.
func (r *Registry) limitsOf(sid string) (session.Limits, string) {
	if h := r.lookup(sid); h != nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.lim, h.uid
	}
	return session.Limits{}, ""
}

// describe turns a snapshot into the API's view of the session.
func (r *Registry) describe(sid string, lim session.Limits, snap session.Snapshot) apiSession {
	s := apiSession{SID: sid, httpStatus: http.StatusOK}
	if h := r.lookup(sid); h != nil {
		h.mu.Lock()
		s.Tabs = len(h.tabs)
		h.mu.Unlock()
	}
	idle := snap.Idle()
	switch {
	case snap.Ended:
		s.Status = "expired"
	case !snap.Known:
		s.Status = "unknown"
		s.httpStatus = http.StatusNotFound
		s.Error = &apiError{Code: "not_found", Message: "presence knows no session " + sid}
		return s
	case idle >= lim.WarnAfter:
		s.Status = "warning"
	default:
		s.Status = "active"
	}
	if snap.Known {
		s.IdleS = int64(idle / time.Second)
	}
	if !snap.Ended {
		s.ExpireInS = int64(max(lim.ExpireAfter-idle, 0) / time.Second)
	}
	return s
}

// decodeAPIBody reads an optional JSON object body strictly into v. It
// answers the request itself and reports false when the body is wrong.
func decodeAPIBody(w http.ResponseWriter, req *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxAPIBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeAPIError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body must be at most %d bytes", maxAPIBody))
			return false
		}
		writeAPIError(w, http.StatusBadRequest, "bad_request", "cannot read the body: "+err.Error())
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeAPIError(w, http.StatusBadRequest, "bad_request", "the body must be a JSON object with the documented fields: "+err.Error())
		return false
	}
	if dec.More() {
		writeAPIError(w, http.StatusBadRequest, "bad_request", "the body must hold one JSON object")
		return false
	}
	return true
}

func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error apiError `json:"error"`
	}{apiError{code, message}})
}
