package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MaxBatch is how many sessions presence takes in one Batch.
const MaxBatch = 1000

// maxBatchAnswer bounds the answer of a Batch that is read: a thousand
// sessions of the longest ids.
const maxBatchAnswer = 1 << 20

// Entry is one session's report in a Batch: activity the application
// saw, or a login. Every field but SID is optional.
type Entry struct {
	SID string `json:"sid"`
	// Idle is how long ago the person was active; zero means now.
	Idle time.Duration `json:"-"`
	// UID is the session's user, for presence's webhook.
	UID string `json:"uid,omitempty"`
	// WarnAfter and ExpireAfter, whole seconds, are the session's limits;
	// zero means the session's own, or presence's defaults for a session
	// it does not know yet.
	WarnAfter   time.Duration `json:"-"`
	ExpireAfter time.Duration `json:"-"`
	// EndAt is the session's absolute end, as its tokens' end_at: it ends
	// then whatever the activity. Zero means none; presence keeps the
	// first end it learns of a session.
	EndAt time.Time `json:"-"`
}

// MarshalJSON writes the entry as the server API takes it, with seconds.
func (e Entry) MarshalJSON() ([]byte, error) {
	type wire struct {
		SID         string `json:"sid"`
		IdleS       int64  `json:"idle_s"`
		UID         string `json:"uid,omitempty"`
		WarnAfter   int64  `json:"warn_after,omitempty"`
		ExpireAfter int64  `json:"expire_after,omitempty"`
		EndAt       int64  `json:"end_at,omitempty"`
	}
	w := wire{
		SID:         e.SID,
		IdleS:       max(int64(e.Idle/time.Second), 0),
		UID:         e.UID,
		WarnAfter:   int64(e.WarnAfter / time.Second),
		ExpireAfter: int64(e.ExpireAfter / time.Second),
	}
	if !e.EndAt.IsZero() {
		w.EndAt = max(e.EndAt.Unix(), 1)
	}
	return json.Marshal(w)
}

// BatchError is presence's refusal of one entry of a Batch, which failed
// the whole batch: drop the entry and send the others again. Find it with
// errors.As.
type BatchError struct {
	Index   int    // the entry's index in the batch
	Message string // presence's message, naming the member and the problem
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("presence API: batch entry %d refused: %s", e.Index, e.Message)
}

// Batch reports up to MaxBatch sessions at once, in one request: a
// session presence does not know is registered with its limits and user
// (a login), a known one gets the activity (which never moves its last
// activity back, nor revives an ended session). It answers each
// session's status, in order. When presence refuses one entry, Batch
// returns a *BatchError and presence recorded nothing of the batch.
func (c *Client) Batch(ctx context.Context, entries []Entry) ([]Status, error) {
	const op = "POST activity"
	if len(entries) > MaxBatch {
		return nil, fmt.Errorf("backend: %s: %d entries; send at most %d a batch", op, len(entries), MaxBatch)
	}
	for i, e := range entries {
		if !validSID(e.SID) {
			return nil, &BatchError{Index: i, Message: "sid is not 1 to 128 characters of [A-Za-z0-9._:-]"}
		}
	}
	body, err := json.Marshal(struct {
		Sessions []Entry `json:"sessions"`
	}{entries})
	if err != nil {
		return nil, fmt.Errorf("backend: %s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/activity", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("backend: %s: %w", op, err)
	}
	c.headers(req, true)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("backend: %s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBatchAnswer))
	if err != nil {
		return nil, fmt.Errorf("backend: %s: read the answer: %w", op, err)
	}
	var ans struct {
		Sessions []Status `json:"sessions"`
		Error    *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Index   *int   `json:"index"`
		} `json:"error"`
	}
	jsonErr := json.Unmarshal(raw, &ans)
	switch {
	case resp.StatusCode == http.StatusOK && jsonErr == nil && len(ans.Sessions) == len(entries):
		return ans.Sessions, nil
	case resp.StatusCode == http.StatusOK:
		return nil, &APIError{StatusCode: resp.StatusCode, Message: fmt.Sprintf("the answer is not %d sessions: %s", len(entries), excerpt(raw))}
	case resp.StatusCode == http.StatusBadRequest && jsonErr == nil && ans.Error != nil && ans.Error.Index != nil &&
		*ans.Error.Index >= 0 && *ans.Error.Index < len(entries):
		return nil, &BatchError{Index: *ans.Error.Index, Message: ans.Error.Message}
	}
	e := &APIError{StatusCode: resp.StatusCode}
	if jsonErr == nil && ans.Error != nil {
		e.Code, e.Message = ans.Error.Code, ans.Error.Message
	} else {
		e.Message = excerpt(raw)
	}
	return nil, e
}
