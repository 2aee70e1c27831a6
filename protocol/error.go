package protocol

import (
	"strconv"
	"unicode/utf8"
)

// Codes of the errors DecodeClient returns. They are stable: clients and
// tests may match on them. The server sends them back in error frames, and
// uses Error with codes of its own for problems beyond a frame's syntax.
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
)

// Error is a protocol error: the typed error of DecodeClient and
// DecodeServer, found with errors.As, and the server's error frame, which
// AppendJSON encodes.
//
// Code is a short snake_case string a program can match on; Message says
// in English what to fix. Messages DecodeClient writes never include a
// token and quote at most a few dozen bytes of the frame, so the server
// may send them back to the client.
type Error struct {
	Code    string
	Message string
}

// Error returns "protocol: <code>: <message>".
func (e *Error) Error() string {
	return "protocol: " + e.Code + ": " + e.Message
}

// maxEcho is the most bytes of a client's names and values that an error
// message quotes.
const maxEcho = 32

// echo quotes s for an error message, cut to maxEcho bytes on a rune
// boundary.
func echo(s []byte) string {
	if len(s) <= maxEcho {
		return strconv.Quote(string(s))
	}
	n := maxEcho
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(string(s[:n])) + "..."
}

// errBadJSON returns a bad_json error with the given detail.
func errBadJSON(detail string) *Error {
	return &Error{Code: CodeBadJSON, Message: "frame must be one JSON object: " + detail}
}

// errSyntax returns a bad_json error for a syntax error at offset i of
// data.
func errSyntax(data []byte, i int) *Error {
	if i >= len(data) {
		return errBadJSON("unexpected end of data")
	}
	return errBadJSON("syntax error at byte " + strconv.Itoa(i))
}

// errDuplicate returns a duplicate_field error for the member name.
func errDuplicate(name string) *Error {
	return &Error{Code: CodeDuplicateField, Message: "duplicate field " + strconv.Quote(name)}
}

// errNotString returns a bad_field error for the member name, which must
// be a string and is a value of kind k.
func errNotString(name string, k kind) *Error {
	return &Error{Code: CodeBadField, Message: name + " must be a JSON string, got " + k.String()}
}
