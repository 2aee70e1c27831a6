package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxAPIBody bounds an answer of presence's API that is read.
const maxAPIBody = 64 << 10

// defaultTimeout bounds a call to presence's API when the http.Client
// sets no timeout of its own.
const defaultTimeout = 5 * time.Second

// ClientOptions configures NewClient. BaseURL and APIKey are required.
type ClientOptions struct {
	// BaseURL is presence's address, such as "https://presence.example.com"
	// or, when presence is mounted under the application's origin,
	// "https://app.example.com/presence".
	BaseURL string
	// APIKey is the key presence's API was enabled with, sent as a Bearer
	// token.
	APIKey string
	// HTTP makes the requests. Its Timeout bounds each call, and a zero
	// Timeout means 5 s. Nil means a client with a 5 s timeout.
	HTTP *http.Client
}

// Client calls presence's API about sessions. All methods may be called
// concurrently.
type Client struct {
	base    string // without a trailing slash
	auth    string
	http    *http.Client
	timeout time.Duration
}

// Status is presence's view of a session.
type Status struct {
	SID string `json:"sid"`
	// Status is active, warning (the warning shows), expired (for good) or
	// unknown (presence has not seen the session, or forgot it).
	Status string `json:"status"`
	// IdleSeconds is how long the person has been idle, across all tabs.
	IdleSeconds int64 `json:"idle_s"`
	// Tabs is how many tabs are connected.
	Tabs int64 `json:"tabs"`
	// Sockets is how many connections those tabs hold: fewer than Tabs
	// where a browser's tabs share one.
	Sockets int64 `json:"sockets"`
	// ExpireInSeconds is how long until the session expires unless there is
	// activity, or until its absolute end if that comes first.
	ExpireInSeconds int64 `json:"expire_in_s"`
	// EndsAt is a live session's absolute end, Unix seconds; zero when it
	// has none.
	EndsAt int64 `json:"ends_at"`
}

// APIError is an error answer of presence's API. Find it with errors.As.
type APIError struct {
	StatusCode int    // the HTTP status, such as 401
	Code       string // presence's code, such as "unauthorized"; empty if the body had none
	Message    string // presence's message, or the start of a body that was not presence's
}

func (e *APIError) Error() string {
	msg := "presence API: " + http.StatusText(e.StatusCode) + fmt.Sprintf(" (%d)", e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// NewClient returns a Client, or an error that says which option to fix.
func NewClient(opts ClientOptions) (*Client, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("backend: BaseURL %q must be an absolute http or https URL without a query", opts.BaseURL)
	}
	if opts.APIKey == "" {
		return nil, errors.New("backend: APIKey is required: the key presence's API was enabled with")
	}
	if strings.ContainsAny(opts.APIKey, "\r\n") {
		return nil, errors.New("backend: APIKey must not contain a line break")
	}
	c := &Client{
		base:    strings.TrimRight(opts.BaseURL, "/"),
		auth:    "Bearer " + opts.APIKey,
		http:    opts.HTTP,
		timeout: defaultTimeout,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: defaultTimeout}
	} else if c.http.Timeout > 0 {
		c.timeout = c.http.Timeout
	}
	return c, nil
}

// Session returns presence's view of session sid. A session presence
// does not know has Status "unknown", and no error.
func (c *Client) Session(ctx context.Context, sid string) (Status, error) {
	return c.call(ctx, http.MethodGet, sid, "", nil)
}

// Activity tells presence that the application saw the person of session
// sid idle ago: a form post, an upload. presence shares it with the
// session's tabs as if one of them had reported it; it cannot revive an
// expired session.
func (c *Client) Activity(ctx context.Context, sid string, idle time.Duration) (Status, error) {
	body := struct {
		IdleS int64 `json:"idle_s"`
	}{max(int64(idle/time.Second), 0)}
	return c.call(ctx, http.MethodPost, sid, "/activity", body)
}

// Logout ends session sid now in every tab, as the application's own
// logout view should: reason is "logout" or "revoked", and empty means
// presence's default (logout).
func (c *Client) Logout(ctx context.Context, sid, reason string) (Status, error) {
	body := struct {
		Reason string `json:"reason,omitempty"`
	}{reason}
	return c.call(ctx, http.MethodPost, sid, "/logout", body)
}

// call sends one request about sid and decodes the session object
// presence answers with.
func (c *Client) call(ctx context.Context, method, sid, action string, body any) (Status, error) {
	op := method + " session" + action
	if !validSID(sid) {
		return Status{}, fmt.Errorf("backend: %s: the session id is not 1 to 128 characters of [A-Za-z0-9._:-]", op)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Status{}, fmt.Errorf("backend: %s: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1/sessions/"+sid+action, rd)
	if err != nil {
		return Status{}, fmt.Errorf("backend: %s: %w", op, err)
	}
	c.headers(req, body != nil)
	resp, err := c.http.Do(req)
	if err != nil {
		return Status{}, fmt.Errorf("backend: %s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return Status{}, fmt.Errorf("backend: %s: read the answer: %w", op, err)
	}
	return decodeAnswer(resp.StatusCode, sid, raw)
}

// headers sets the headers of every request to presence's API.
func (c *Client) headers(req *http.Request, withBody bool) {
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "presence-backend/1")
	if withBody {
		req.Header.Set("Content-Type", "application/json")
	}
}

// decodeAnswer turns an answer of presence's API into a Status or an
// error. A 404 that carries a session object with status unknown is an
// answer, not an error; any other 404 (a wrong BaseURL) is an *APIError.
func decodeAnswer(code int, sid string, raw []byte) (Status, error) {
	var ans struct {
		Status
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	jsonErr := json.Unmarshal(raw, &ans)
	switch {
	case code == http.StatusOK && jsonErr == nil && ans.Status.Status != "":
		return ans.Status, nil
	case code == http.StatusNotFound && jsonErr == nil && ans.Status.Status == "unknown":
		return Status{SID: sid, Status: "unknown"}, nil
	case code == http.StatusOK:
		return Status{}, &APIError{StatusCode: code, Message: "the answer is not a session object: " + excerpt(raw)}
	}
	e := &APIError{StatusCode: code}
	if jsonErr == nil && ans.Error != nil {
		e.Code, e.Message = ans.Error.Code, ans.Error.Message
	} else {
		e.Message = excerpt(raw)
	}
	return Status{}, e
}

// excerpt returns the start of a body that was not presence's, for an
// error message.
func excerpt(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strings.ToValidUTF8(s, "�")
}
