package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Event is one ended session, as the application receives it.
type Event struct {
	SID    string    `json:"sid"`
	UID    string    `json:"uid"`
	Reason string    `json:"reason"` // idle, logout, revoked or lifetime
	At     time.Time `json:"at"`     // when the session ended
}

// body is the JSON the receiver gets: at in RFC 3339 UTC with
// milliseconds.
func (e Event) body() []byte {
	b, _ := json.Marshal(struct {
		SID    string `json:"sid"`
		UID    string `json:"uid"`
		Reason string `json:"reason"`
		At     string `json:"at"`
	}{e.SID, e.UID, e.Reason, e.At.UTC().Format("2006-01-02T15:04:05.000Z07:00")})
	return b
}

// idempotencyKey is the same for every delivery of the same end, from any
// node: it depends on the session and the instant it ended only.
func (e Event) idempotencyKey() string {
	sum := sha256.Sum256([]byte(e.SID + "|" + e.At.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(sum[:16])
}
