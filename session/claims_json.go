package session

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// claimsJSON is the securecookie serializer of tokens: the JSON encoder,
// with a decoder as strict as the WebSocket frames' (package protocol)
// about the claims presence reads: their names must match exactly, in case
// too, and appear once. Go's json.Unmarshal alone would take
// {"sid":"a","SID":"b"} as sid "b". Members that are no claim are ignored,
// so that an application's newer helper can add claims before presence
// reads them.
type claimsJSON struct{}

// claimNames are the members a token's payload may hold.
var claimNames = [...]string{"sid", "uid", "warn_after", "expire_after", "logout_url", "end_at"}

// Serialize implements securecookie.Serializer.
func (claimsJSON) Serialize(src any) ([]byte, error) {
	return json.Marshal(src)
}

// Deserialize implements securecookie.Serializer.
func (claimsJSON) Deserialize(src []byte, dst any) error {
	if err := checkClaimNames(src); err != nil {
		return err
	}
	return json.Unmarshal(src, dst)
}

// checkClaimNames refuses a payload object with a member presence does
// not know, or one given twice. What is not a valid JSON object is left to
// json.Unmarshal to refuse.
//
// It reads the object's names in one pass without allocating, since every
// hello's token goes through it: a reconnect storm verifies thousands a
// second.
func checkClaimNames(data []byte) error {
	if !json.Valid(data) {
		return nil
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return nil
	}
	var seen [len(claimNames)]bool
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
		switch claim := claimIndex(name); {
		case claim < 0 && foldsToClaim(name):
			return &ClaimsError{Field: echoName(string(name)), Problem: "is spelled in another case; the claims are sid, uid, warn_after, expire_after, logout_url and end_at, in lower case"}
		case claim >= 0 && seen[claim]:
			return &ClaimsError{Field: claimNames[claim], Problem: "is given twice; give it once"}
		case claim >= 0:
			seen[claim] = true
		}
		i = skipValue(data, skipSpace(data, end)+1) // past the colon
	}
	return nil
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

// skipValue returns the offset after the value that starts at or after
// i: a string, an object or an array with all it holds, or a number,
// true, false or null.
func skipValue(d []byte, i int) int {
	i = skipSpace(d, i)
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
