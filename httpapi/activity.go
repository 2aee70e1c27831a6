package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// maxBatch is how many sessions one POST /api/v1/activity may carry, and
// maxBatchBody how large its body may be: a thousand entries of the
// longest session ids and user ids fit.
const (
	maxBatch     = 1000
	maxBatchBody = 1 << 20
)

// apiActivity is one report of activity the application saw: an entry of
// a batch, or the body of POST /api/v1/sessions/{sid}/activity, which
// takes its sid from the path. Every member but sid is optional.
type apiActivity struct {
	SID         string `json:"sid"`
	IdleS       *int64 `json:"idle_s"`
	UID         string `json:"uid"`
	WarnAfter   int64  `json:"warn_after"`
	ExpireAfter int64  `json:"expire_after"`
	// EndAt is the session's absolute end, Unix seconds, as a token's
	// end_at; the store keeps the first it learns of.
	EndAt int64 `json:"end_at"`
}

// batchSession is a session as a batch's answer shows it.
type batchSession struct {
	SID       string `json:"sid"`
	Status    string `json:"status"`
	ExpireInS int64  `json:"expire_in_s"`
}

// report turns an entry into the Registry's Report, or says what is wrong
// with it: the member and the problem, as a *session.ClaimsError.
func (s *Server) report(a apiActivity) (hub.Report, error) {
	rep := hub.Report{SID: a.SID, UID: a.UID}
	if a.IdleS != nil {
		// As idleFor: absent means now, negative counts as 0.
		rep.Idle = session.IdleSeconds(*a.IdleS)
	}
	claims := session.Claims{SID: a.SID, UID: a.UID, WarnAfter: a.WarnAfter, ExpireAfter: a.ExpireAfter, EndAt: a.EndAt}
	filled, err := s.opts.Verifier.CheckClaims(claims)
	if err != nil {
		return hub.Report{}, err
	}
	rep.EndAt = filled.End()
	// Limits given, even one of the two, are the session's from now on, as
	// a token's are; none leaves the session's own, or the defaults for a
	// session presence does not know yet.
	if a.WarnAfter != 0 || a.ExpireAfter != 0 {
		rep.Limits = filled.Limits()
	}
	return rep, nil
}

// apiActivity records one session's activity, and registers a session
// presence does not know yet: POST /api/v1/sessions/{sid}/activity.
func (s *Server) apiActivity(w http.ResponseWriter, r *http.Request) {
	sid, ok := apiSID(w, r)
	if !ok {
		return
	}
	var a apiActivity
	if !decodeAPIBody(w, r, &a) {
		return
	}
	if a.SID != "" {
		writeAPIError(w, http.StatusBadRequest, protocol.CodeBadRequest, "the session id goes in the path, not the body")
		return
	}
	a.SID = sid
	rep, err := s.report(a)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, protocol.CodeBadRequest, claimProblem(err))
		return
	}
	sess, err := s.opts.Registry.Report(r.Context(), rep)
	s.writeSession(w, sess, err)
}

// apiBatch records the activity of many sessions at once, registering
// those presence does not know yet: POST /api/v1/activity with
// {"sessions": [...]}, answered in the same order. A bad entry fails the
// whole batch, before anything is recorded, with a 400 that names its
// index, so that the caller drops it and sends the rest again at once.
func (s *Server) apiBatch(w http.ResponseWriter, r *http.Request) {
	body, ok := readAPIBody(w, r, maxBatchBody)
	if !ok {
		return
	}
	reps, problem := s.parseBatch(body)
	if problem != nil {
		problem.write(w)
		return
	}
	sessions, err := s.opts.Registry.ReportAll(r.Context(), reps)
	if err != nil {
		s.writeSession(w, hub.Session{}, err) // the store is down: 503, try again
		return
	}
	out := make([]batchSession, len(sessions))
	for i, sess := range sessions {
		out[i] = batchSession{SID: sess.SID, Status: string(sess.Status), ExpireInS: int64(sess.ExpireIn / time.Second)}
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []batchSession `json:"sessions"`
	}{out})
}

// batchProblem is what is wrong with a batch: its status, code and
// message, and the index of the entry at fault, or -1.
type batchProblem struct {
	status  int
	code    string
	message string
	index   int
}

func (p *batchProblem) write(w http.ResponseWriter) {
	e := apiError{Code: p.code, Message: p.message}
	if p.index >= 0 {
		e.Index = &p.index
	}
	writeJSON(w, p.status, struct {
		Error apiError `json:"error"`
	}{e})
}

// parseBatch reads a batch's body, {"sessions": [...]}, into reports, or
// says what is wrong with it: the whole of it, or the first bad entry.
func (s *Server) parseBatch(body []byte) ([]hub.Report, *batchProblem) {
	var req struct {
		Sessions []json.RawMessage `json:"sessions"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return nil, &batchProblem{http.StatusBadRequest, protocol.CodeBadRequest, `the body must be one JSON object, {"sessions": [...]}`, -1}
	}
	if req.Sessions == nil {
		return nil, &batchProblem{http.StatusBadRequest, protocol.CodeBadRequest, `the body must be {"sessions": [...]}`, -1}
	}
	if len(req.Sessions) > maxBatch {
		return nil, &batchProblem{http.StatusRequestEntityTooLarge, protocol.CodeTooLarge,
			fmt.Sprintf("%d sessions in one batch; send at most %d, and the rest in another", len(req.Sessions), maxBatch), -1}
	}
	reps := make([]hub.Report, len(req.Sessions))
	for i, raw := range req.Sessions {
		var a apiActivity
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return nil, &batchProblem{http.StatusBadRequest, protocol.CodeBadRequest,
				fmt.Sprintf("sessions[%d]: must be an object of sid, idle_s, uid, warn_after, expire_after and end_at: %v", i, err), i}
		}
		rep, err := s.report(a)
		if err != nil {
			return nil, &batchProblem{http.StatusBadRequest, protocol.CodeBadRequest, fmt.Sprintf("sessions[%d]: %s", i, claimProblem(err)), i}
		}
		reps[i] = rep
	}
	return reps, nil
}

// claimProblem says which member is wrong and how, from a check of the
// session package.
func claimProblem(err error) string {
	var ce *session.ClaimsError
	if errors.As(err, &ce) {
		return ce.Field + " " + ce.Problem
	}
	return err.Error()
}
