package soak

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presence-dev/presence/webhook"
)

// receiver plays the application's webhook receiver: it verifies each
// delivery as an application must, records it, and answers 500 while it
// is told to be down.
type receiver struct {
	secret []byte
	down   atomic.Bool

	mu         sync.Mutex
	deliveries map[string][]delivery // by session id
	keys       map[string]int        // deliveries per Idempotency-Key
	refused    int                   // answered 500 while down
	bad        int                   // not a valid signed end
}

// delivery is an end as the application's receiver got it.
type delivery struct {
	key      string
	reason   string
	at       time.Time // when presence ended the session
	received time.Time
}

func newReceiver(secret []byte) *receiver {
	return &receiver{secret: secret, deliveries: map[string][]delivery{}, keys: map[string]int{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if rc.down.Load() {
		rc.mu.Lock()
		rc.refused++
		rc.mu.Unlock()
		http.Error(w, "the receiver is down", http.StatusInternalServerError)
		return
	}
	var e webhook.Event
	if webhook.Verify(r.Header.Get("Presence-Signature"), body, time.Now(), rc.secret) != nil || json.Unmarshal(body, &e) != nil || e.SID == "" {
		rc.mu.Lock()
		rc.bad++
		rc.mu.Unlock()
		http.Error(w, "not a signed end", http.StatusBadRequest)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	rc.mu.Lock()
	rc.deliveries[e.SID] = append(rc.deliveries[e.SID], delivery{key: key, reason: e.Reason, at: e.At, received: time.Now()})
	rc.keys[key]++
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// first returns the first delivery of sid's end.
func (rc *receiver) first(sid string) (delivery, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	d := rc.deliveries[sid]
	if len(d) == 0 {
		return delivery{}, false
	}
	return d[0], true
}

// repeated counts deliveries beyond the first of each end, and ends of a
// session with more than one Idempotency-Key (an end decided twice).
func (rc *receiver) repeated() (repeats, twice int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, n := range rc.keys {
		repeats += n - 1
	}
	for _, ds := range rc.deliveries {
		keys := map[string]bool{}
		for _, d := range ds {
			keys[d.key] = true
		}
		if len(keys) > 1 {
			twice++
		}
	}
	return repeats, twice
}
