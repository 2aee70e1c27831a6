package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// APIPrefix is where the server API lives.
const APIPrefix = "/api/v1/"

// apiSession is a session as the server API shows it.
type apiSession struct {
	SID    string `json:"sid"`
	Status string `json:"status"` // active, warning, expired or unknown
	IdleS  int64  `json:"idle_s"`
	Tabs   int    `json:"tabs"`
	// Sockets counts the connections behind tabs: fewer than tabs where
	// a browser's tabs share one (the client's shareSocket).
	Sockets   int   `json:"sockets"`
	ExpireInS int64 `json:"expire_in_s"`
	// EndsAt is a live session's absolute end, Unix seconds; absent when
	// it has none.
	EndsAt *int64    `json:"ends_at,omitempty"`
	Error  *apiError `json:"error,omitempty"`
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Index names a batch's entry that is wrong.
	Index *int `json:"index,omitempty"`
}

// api returns the server API for the application's backend, which
// authenticates with Authorization: Bearer key (docs/api.md):
//
//	GET  /api/v1/sessions/{sid}           the session's state
//	POST /api/v1/sessions/{sid}/activity  {"idle_s", "uid", "warn_after", "expire_after", "end_at"}: activity the application saw, or a login
//	POST /api/v1/sessions/{sid}/logout    {"reason": "logout"|"revoked"}: end it in every tab now
//	POST /api/v1/activity                 {"sessions": [...]}: the same for up to 1,000 sessions
//
// Every answer is JSON; an error is {"error": {"code", "message"}}.
func (s *Server) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/sessions/{sid}", s.apiGet)
	mux.HandleFunc("POST /api/v1/sessions/{sid}/activity", s.apiActivity)
	mux.HandleFunc("POST /api/v1/sessions/{sid}/logout", s.apiLogout)
	mux.HandleFunc("POST /api/v1/activity", s.apiBatch)
	mux.Handle("/api/v1/activity", apiMethodNotAllowed(http.MethodPost))
	mux.Handle("/api/v1/sessions/{sid}", apiMethodNotAllowed(http.MethodGet))
	mux.Handle("/api/v1/sessions/{sid}/activity", apiMethodNotAllowed(http.MethodPost))
	mux.Handle("/api/v1/sessions/{sid}/logout", apiMethodNotAllowed(http.MethodPost))
	mux.HandleFunc("/api/v1/sessions/{sid}/{action}", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, protocol.CodeNotFound,
			fmt.Sprintf("no such endpoint %q; use activity or logout", r.PathValue("action")))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeAPIError(w, http.StatusNotFound, protocol.CodeNotFound,
			"no such endpoint; use /api/v1/activity or /api/v1/sessions/{sid}, /activity or /logout")
	})

	want := sha256.Sum256([]byte(s.opts.APIKey))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		addr, now := s.opts.Proxies.ClientAddress(r), time.Now()
		if wait := s.keyFailures.wait(addr, now); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			writeAPIError(w, http.StatusTooManyRequests, protocol.CodeRateLimited,
				"too many requests with a wrong API key from this address; wait, and send the right one")
			return
		}
		auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(strings.TrimSpace(auth)))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			s.keyFailures.failed(addr, now)
			w.Header().Set("WWW-Authenticate", `Bearer realm="presence"`)
			writeAPIError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "send Authorization: Bearer <the PRESENCE_API_KEY>")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func apiMethodNotAllowed(method string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", method)
		writeAPIError(w, http.StatusMethodNotAllowed, protocol.CodeMethodNotAllowed, "use "+method)
	})
}

// apiSID returns the request's session id, or answers 400 and returns
// false.
func apiSID(w http.ResponseWriter, r *http.Request) (string, bool) {
	sid := r.PathValue("sid")
	if err := session.CheckSID(sid); err != nil {
		var ce *session.ClaimsError
		errors.As(err, &ce)
		writeAPIError(w, http.StatusBadRequest, protocol.CodeBadRequest, "sid "+ce.Problem)
		return "", false
	}
	return sid, true
}

func (s *Server) apiGet(w http.ResponseWriter, r *http.Request) {
	sid, ok := apiSID(w, r)
	if !ok {
		return
	}
	sess, err := s.opts.Registry.Lookup(r.Context(), sid)
	s.writeSession(w, sess, err)
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	sid, ok := apiSID(w, r)
	if !ok {
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if !decodeAPIBody(w, r, &body) {
		return
	}
	reason := session.Reason(body.Reason)
	switch reason {
	case "":
		reason = session.ReasonLogout
	case session.ReasonLogout, session.ReasonRevoked:
	default:
		writeAPIError(w, http.StatusBadRequest, protocol.CodeBadRequest, fmt.Sprintf("reason %q: use logout or revoked", body.Reason))
		return
	}
	sess, err := s.opts.Registry.End(r.Context(), sid, reason)
	s.writeSession(w, sess, err)
}

// writeSession answers with the session, or with the store's failure.
func (s *Server) writeSession(w http.ResponseWriter, sess hub.Session, err error) {
	if err != nil {
		w.Header().Set("Retry-After", "5")
		writeAPIError(w, http.StatusServiceUnavailable, protocol.CodeStoreUnavailable, "presence cannot reach its store; try again shortly")
		return
	}
	out := apiSession{
		SID:       sess.SID,
		Status:    string(sess.Status),
		IdleS:     int64(sess.Idle / time.Second),
		Tabs:      sess.Tabs,
		Sockets:   sess.Sockets,
		ExpireInS: int64(sess.ExpireIn / time.Second),
	}
	if !sess.EndsAt.IsZero() && sess.Status != session.StatusExpired {
		endsAt := sess.EndsAt.Unix()
		out.EndsAt = &endsAt
	}
	status := http.StatusOK
	if sess.Status == session.StatusUnknown {
		status = http.StatusNotFound
		out.Error = &apiError{Code: protocol.CodeNotFound, Message: "presence knows no session " + sess.SID}
	}
	writeJSON(w, status, out)
}
