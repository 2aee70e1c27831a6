package protocol

import (
	"strconv"
	"unicode/utf8"

	"github.com/presence-dev/presence/internal/jsonscan"
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

// errDuplicate returns a duplicate_field error for the member name.
func errDuplicate(name string) *Error {
	return &Error{Code: CodeDuplicateField, Message: "duplicate field " + strconv.Quote(name)}
}

// errNotString returns a bad_field error for the member name, which must
// be a string and is a value of kind k.
func errNotString(name string, k jsonscan.Kind) *Error {
	return &Error{Code: CodeBadField, Message: name + " must be a JSON string, got " + k.String()}
}
