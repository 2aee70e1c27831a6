package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// claimsJSON is the securecookie serializer of tokens: the JSON encoder,
// with a decoder as strict as the WebSocket frames' (package protocol)
// about the claims presence reads: their names must match exactly, in case
// too, and appear once. Go's json.Unmarshal alone would take
// {"sid":"a","SID":"b"} as sid "b". Members that are no claim are ignored,
// so that an application's newer helper can add claims before presence
// reads them.
type claimsJSON struct{}

// The claims, by their index in claimNames.
const (
	claimSID = iota
	claimUID
	claimWarnAfter
	claimExpireAfter
	claimLogoutURL
	claimEndAt
)

// claimNames are the members a token's payload may hold.
var claimNames = [...]string{
	claimSID:         "sid",
	claimUID:         "uid",
	claimWarnAfter:   "warn_after",
	claimExpireAfter: "expire_after",
	claimLogoutURL:   "logout_url",
	claimEndAt:       "end_at",
}

// Serialize implements securecookie.Serializer.
func (claimsJSON) Serialize(src any) ([]byte, error) {
	return json.Marshal(src)
}

// Deserialize implements securecookie.Serializer for a *Claims.
func (claimsJSON) Deserialize(src []byte, dst any) error {
	c, ok := dst.(*Claims)
	if !ok {
		return fmt.Errorf("session: a token's claims decode into a *Claims, not a %T", dst)
	}
	return decodeClaims(src, c)
}

// decodeClaims reads a token's payload into c as json.Unmarshal would,
// with the same values and the same errors, except that it refuses a
// claim's name in another case, or a member given twice, with a
// *ClaimsError, where json.Unmarshal would take them. Every hello's and
// every ping's token goes through it, thousands a second in a reconnect
// storm: it reads the payload in one pass after json.Valid, without
// reflection, and allocates only the strings it keeps.
func decodeClaims(data []byte, c *Claims) error {
	if !json.Valid(data) {
		return json.Unmarshal(data, c) // the syntax error, saying where
	}
	i := skipSpace(data, 0)
	switch data[i] {
	case 'n':
		return nil // null sets nothing
	case '{':
	default:
		return &json.UnmarshalTypeError{Value: jsonKind(data[i]), Type: reflect.TypeFor[Claims](), Offset: int64(i)}
	}
	var seen [len(claimNames)]bool
	var others [][]byte // the members that are no claim, rarely any
	var typeErr error   // the first, returned once every name is checked
	for i = skipSpace(data, i+1); data[i] != '}'; i = skipSpace(data, i) {
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
		end := stringEnd(data, i)
		name := data[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			var unescaped string
			json.Unmarshal(data[i:end], &unescaped) // valid: json.Valid said so
			name = []byte(unescaped)
		}
		claim := claimIndex(name)
		switch {
		case claim < 0 && foldsToClaim(name):
			return &ClaimsError{Field: echoName(string(name)), Problem: "is spelled in another case; the claims are sid, uid, warn_after, expire_after, logout_url and end_at, in lower case"}
		case claim >= 0 && seen[claim]:
			return &ClaimsError{Field: claimNames[claim], Problem: "is given twice; give it once"}
		case claim < 0 && slices.ContainsFunc(others, func(o []byte) bool { return bytes.Equal(o, name) }):
			return &ClaimsError{Field: echoName(string(name)), Problem: "is given twice; give it once"}
		case claim < 0:
			others = append(others, name)
		}
		start := skipSpace(data, skipSpace(data, end)+1) // past the colon
		i = skipValue(data, start)
		if claim < 0 {
			continue
		}
		seen[claim] = true
		if err := setClaim(c, claim, data[start:i], start); err != nil && typeErr == nil {
			typeErr = err
		}
	}
	return typeErr
}

// setClaim sets claim k of c from its JSON value, found at offset in the
// payload, as json.Unmarshal would: null leaves the claim as it is, and a
// value of another kind than the claim's is a *json.UnmarshalTypeError.
func setClaim(c *Claims, k int, value []byte, offset int) error {
	if value[0] == 'n' {
		return nil
	}
	typeError := func(kind string, typ reflect.Type) error {
		return &json.UnmarshalTypeError{Value: kind, Type: typ, Offset: int64(offset), Field: claimNames[k]}
	}
	var s *string
	var n *int64
	switch k {
	case claimSID:
		s = &c.SID
	case claimUID:
		s = &c.UID
	case claimLogoutURL:
		s = &c.LogoutURL
	case claimWarnAfter:
		n = &c.WarnAfter
	case claimExpireAfter:
		n = &c.ExpireAfter
	case claimEndAt:
		n = &c.EndAt
	}
	kind := jsonKind(value[0])
	if s != nil {
		if kind != "string" {
			return typeError(kind, reflect.TypeFor[string]())
		}
		*s = jsonString(value)
		return nil
	}
	if kind != "number" {
		return typeError(kind, reflect.TypeFor[int64]())
	}
	v, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		return typeError("number "+string(value), reflect.TypeFor[int64]())
	}
	*n = v
	return nil
}

// jsonString returns the string a valid JSON string literal holds.
func jsonString(literal []byte) string {
	raw := literal[1 : len(literal)-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	// Escapes, or bytes that are not UTF-8, which json.Unmarshal turns
	// into U+FFFD.
	var s string
	json.Unmarshal(literal, &s)
	return s
}

// jsonKind names the kind of the JSON value that starts with b, as
// json.UnmarshalTypeError does.
func jsonKind(b byte) string {
	switch b {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// claimIndex is name's index in claimNames, or -1 when it names no claim.
func claimIndex(name []byte) int {
	for k, claim := range claimNames {
		if string(name) == claim {
			return k
		}
	}
	return -1
}

// foldsToClaim reports whether name is a claim's name in another case.
func foldsToClaim(name []byte) bool {
	for _, claim := range claimNames {
		if bytes.EqualFold(name, []byte(claim)) {
			return true
		}
	}
	return false
}

// echoName cuts a member name a token carried to 32 bytes for a message.
func echoName(name string) string {
	if len(name) > 32 {
		name = name[:32] + "..."
	}
	return strconv.QuoteToGraphic(name)[1 : len(strconv.QuoteToGraphic(name))-1]
}

// The scanning below reads JSON that json.Valid accepted: it checks no
// syntax, only finds where each part ends.

// skipSpace returns the offset of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset after the closing quote of the string whose
// opening quote is at i.
func stringEnd(d []byte, i int) int {
	for i++; d[i] != '"'; i++ {
		if d[i] == '\\' {
			i++ // the escaped byte cannot close the string
		}
	}
	return i + 1
}

// skipValue returns the offset after the value that starts at i: a
// string, an object or an array with all it holds, or a number, true,
// false or null.
func skipValue(d []byte, i int) int {
	switch d[i] {
	case '"':
		return stringEnd(d, i)
	case '{', '[':
		for depth := 0; ; i++ {
			switch d[i] {
			case '"':
				i = stringEnd(d, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(d) && strings.IndexByte(", \t\n\r}]", d[i]) < 0 {
		i++
	}
	return i
}
