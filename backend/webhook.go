package backend

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/presence-dev/presence/webhook"
)

// maxWebhookBody bounds a webhook delivery; presence's are under 1 KiB.
const maxWebhookBody = 64 << 10

// WebhookOptions configures WebhookHandler. Secrets is required, and
// Ended or OnEnd (or both).
type WebhookOptions struct {
	// Secrets verify the deliveries' signatures: presence's -secret, and
	// while it is being rotated, the old one too. Any of them may match.
	Secrets [][]byte
	// Ended records each end, for Middleware. Nil means ends are only
	// passed to OnEnd.
	Ended *Ended
	// OnEnd is called with each end after it is recorded, to do the
	// application's own cleanup: delete the login session of e.SID on the
	// server. presence retries when it returns an error (the handler
	// answers 500), and may deliver one end more than once, so it must be
	// idempotent. Nil means no callback.
	OnEnd func(ctx context.Context, e webhook.Event) error
	// Logger receives refused deliveries (at warn) and OnEnd errors (at
	// error). Nil means slog.Default().
	Logger *slog.Logger
	// Now tells the time signatures are checked against. Nil means
	// time.Now.
	Now func() time.Time
}

// WebhookHandler returns the handler of presence's webhook: mount it at
// the URL presence is given for its webhook.
//
// It answers 204 to a delivery whose Presence-Signature matches one of
// the secrets within webhook.Tolerance, after it recorded the end in Ended
// and OnEnd returned. Otherwise it answers with a JSON error body,
// {"error":{"code","message"}}: 405 to a method other than POST, 413 to a
// body over 64 KiB, 401 to a missing, wrong or stale signature, 400 to a
// signed body that is not an end, and 500 when OnEnd fails. Repeated
// deliveries are harmless.
//
// WebhookHandler panics if Secrets is empty or holds an empty secret, or
// if both Ended and OnEnd are nil.
func WebhookHandler(opts WebhookOptions) http.Handler {
	if len(opts.Secrets) == 0 {
		panic("backend: WebhookOptions.Secrets is required")
	}
	for _, s := range opts.Secrets {
		if len(s) == 0 {
			panic("backend: WebhookOptions.Secrets holds an empty secret")
		}
	}
	if opts.Ended == nil && opts.OnEnd == nil {
		panic("backend: WebhookOptions needs Ended, OnEnd or both")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Secrets = append([][]byte(nil), opts.Secrets...)
	return &webhookHandler{opts}
}

type webhookHandler struct{ opts WebhookOptions }

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the webhook takes POST only")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is over 64 KiB")
			return
		}
		writeError(w, http.StatusBadRequest, "bad_body", "the body could not be read")
		return
	}
	if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), body, h.opts.Now(), h.opts.Secrets...); err != nil {
		h.opts.Logger.Warn("presence webhook refused; check that the webhook secret is presence's -secret",
			slog.Any("error", err), slog.String("remote_addr", r.RemoteAddr))
		writeError(w, http.StatusUnauthorized, "bad_signature", err.Error())
		return
	}
	e, problem := decodeEvent(body)
	if problem != "" {
		h.opts.Logger.Warn("presence webhook: signed body refused", slog.String("problem", problem))
		writeError(w, http.StatusBadRequest, "bad_event", problem)
		return
	}
	if h.opts.Ended != nil {
		h.opts.Ended.Add(e.SID, e.Reason)
	}
	if h.opts.OnEnd != nil {
		if err := h.opts.OnEnd(r.Context(), e); err != nil {
			h.opts.Logger.Error("presence webhook: OnEnd failed; presence will retry",
				slog.Any("error", err), slog.String("reason", e.Reason))
			writeError(w, http.StatusInternalServerError, "on_end_failed", "the application could not handle the end; retry")
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeEvent decodes a delivery's body, or says what is wrong with it.
// Unknown members and reasons are accepted, so that presence can add
// them; a body that does not name a session and a reason is not.
func decodeEvent(body []byte) (webhook.Event, string) {
	var e webhook.Event
	if err := json.Unmarshal(body, &e); err != nil {
		return e, "the body is not a JSON event: " + err.Error()
	}
	switch {
	case !validSID(e.SID):
		return e, `"sid" must be 1 to 128 characters of [A-Za-z0-9._:-]`
	case e.Reason == "":
		return e, `"reason" is missing`
	case e.At.IsZero():
		return e, `"at" is missing`
	}
	return e, ""
}

// writeError answers with presence's JSON error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	type apiError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		Error apiError `json:"error"`
	}{apiError{code, message}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
