package protocol

// Codes of error frames and of the HTTP surfaces' JSON errors. They are
// stable: clients and tests match on them, and docs/protocol.md lists them. The
// first six are the codes DecodeClient returns; the others name problems
// beyond a frame's syntax.
const (
	// CodeBadJSON means the frame is not one JSON object: a syntax error,
	// data after the object, another JSON value, or invalid UTF-8.
	CodeBadJSON = "bad_json"
	// CodeMissingType means the object has no "type" member.
	CodeMissingType = "missing_type"
	// CodeUnknownType means "type" names no client frame type. Server
	// frame types, sent by a client, are unknown too.
	CodeUnknownType = "unknown_type"
	// CodeBadField means a member has the wrong JSON type or is out of
	// range: a "type" that is not a string, an idle_ms that is negative,
	// fractional, in exponent form, above MaxIdleMS or null, a token or
	// path that is not a string.
	CodeBadField = "bad_field"
	// CodeUnknownField means a member the frame's type does not define,
	// including a defined name spelled in another case.
	CodeUnknownField = "unknown_field"
	// CodeDuplicateField means the same member appears twice.
	CodeDuplicateField = "duplicate_field"

	// CodeBinaryFrame means a binary WebSocket message; frames are text.
	CodeBinaryFrame = "binary_frame"
	// CodeInvalidUTF8 means a text message that is not valid UTF-8.
	CodeInvalidUTF8 = "invalid_utf8"
	// CodeRateLimited means a tab sent frames faster than FrameRate a
	// second after a burst of FrameBurst.
	CodeRateLimited = "rate_limited"
	// CodeHelloRequired means a frame other than hello came first.
	CodeHelloRequired = "hello_required"
	// CodeHelloTimeout means no hello came in time after connecting.
	CodeHelloTimeout = "hello_timeout"
	// CodeDuplicateHello means a second hello on one connection.
	CodeDuplicateHello = "duplicate_hello"
	// CodeTooManyTabs means the node holds as many tabs as it may, in all,
	// for the session or for the client's address: the tab is closed with
	// 1013 and should reconnect later.
	CodeTooManyTabs = "too_many_tabs"
	// CodeSilent names a tab closed for sending nothing for too long. No
	// frame carries it (the tab is not listening); metrics count it.
	CodeSilent = "silent"

	// CodeTokenMissing means no token came with hello, the cookie or the
	// Authorization header.
	CodeTokenMissing = "token_missing"
	// CodeTokenInvalid means the token is not a presence token, was signed
	// with another secret or was changed.
	CodeTokenInvalid = "token_invalid"
	// CodeTokenTooOld means the token is older than the server's token
	// max age, or stamped in the future.
	CodeTokenTooOld = "token_too_old"
	// CodeClaimsInvalid means the token is signed but one of its claims
	// is wrong; the message names it.
	CodeClaimsInvalid = "claims_invalid"

	// CodeStoreUnavailable means presence cannot reach its store: try
	// again shortly.
	CodeStoreUnavailable = "store_unavailable"

	// CodeOriginRefused means a browser request came from an origin
	// missing from -allowed-origins.
	CodeOriginRefused = "origin_refused"
	// CodeCrossSite means a ping authenticated by the presence cookie came
	// from another site (Sec-Fetch-Site: cross-site): any page the person
	// visits could otherwise keep their session alive.
	CodeCrossSite = "cross_site"
	// CodeUnauthorized means a server API request without the right
	// Bearer API key.
	CodeUnauthorized = "unauthorized"
	// CodeNotFound means no such endpoint, or a session presence does not
	// know.
	CodeNotFound = "not_found"
	// CodeMethodNotAllowed means the endpoint exists for other methods.
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeBadRequest means a request body or parameter that is wrong; the
	// message says what to fix.
	CodeBadRequest = "bad_request"
	// CodeTooLarge means a request body over the endpoint's limit.
	CodeTooLarge = "too_large"
)

// Codes lists every code above, so that metrics can show each from the
// start, at zero. A test keeps it in step with the constants.
var Codes = []string{
	CodeBadJSON, CodeMissingType, CodeUnknownType, CodeBadField, CodeUnknownField, CodeDuplicateField,
	CodeBinaryFrame, CodeInvalidUTF8, CodeRateLimited, CodeHelloRequired, CodeHelloTimeout, CodeDuplicateHello,
	CodeTooManyTabs, CodeSilent,
	CodeTokenMissing, CodeTokenInvalid, CodeTokenTooOld, CodeClaimsInvalid,
	CodeStoreUnavailable,
	CodeOriginRefused, CodeCrossSite, CodeUnauthorized, CodeNotFound, CodeMethodNotAllowed, CodeBadRequest, CodeTooLarge,
}

// The rate limit of a tab's frames: a burst of FrameBurst frames, then
// FrameRate a second. The client sends a few frames a minute; more is a
// broken or hostile client.
const (
	FrameBurst = 20
	FrameRate  = 5
)

// CloseCode is the status code of a WebSocket close frame.
type CloseCode int

// Close codes a presence server sends. The 1xxx codes are RFC 6455's and
// IANA's; the 4xxx codes are protocol v1's own, and both are terminal: a
// client must not reconnect with the same token.
const (
	// CloseUnsupportedData: a binary frame.
	CloseUnsupportedData CloseCode = 1003
	// CloseInvalidPayload: a text frame that is not valid UTF-8.
	CloseInvalidPayload CloseCode = 1007
	// ClosePolicyViolation: no hello in time, a frame before hello, too
	// many frames or bad frames, or silence past the limit.
	ClosePolicyViolation CloseCode = 1008
	// CloseMessageTooBig: a frame over the server's read limit.
	CloseMessageTooBig CloseCode = 1009
	// CloseInternalError: presence could not reach its store at hello;
	// reconnect with backoff.
	CloseInternalError CloseCode = 1011
	// CloseServiceRestart: the server is restarting; reconnect with
	// backoff.
	CloseServiceRestart CloseCode = 1012
	// CloseTryAgainLater: the node holds as many tabs as it may; reconnect
	// with backoff.
	CloseTryAgainLater CloseCode = 1013
	// CloseTokenRefused: the token is missing, invalid or too old.
	CloseTokenRefused CloseCode = 4401
	// CloseSessionEnded: the session is over.
	CloseSessionEnded CloseCode = 4410
)
