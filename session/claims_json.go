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
var claimNames = map[string]bool{"sid": true, "uid": true, "warn_after": true, "expire_after": true, "logout_url": true, "end_at": true}

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
// not know, or one given twice. What is not an object is left to
// json.Unmarshal to refuse.
func checkClaimNames(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := make(map[string]bool, len(claimNames))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		name, _ := tok.(string)
		switch {
		case !claimNames[name] && foldsToClaim(name):
			return &ClaimsError{Field: echoName(name), Problem: "is spelled in another case; the claims are sid, uid, warn_after, expire_after, logout_url and end_at, in lower case"}
		case seen[name]:
			return &ClaimsError{Field: name, Problem: "is given twice; give it once"}
		}
		seen[name] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil
		}
	}
	return nil
}

// foldsToClaim reports whether name is a claim's name in another case.
func foldsToClaim(name string) bool {
	for claim := range claimNames {
		if strings.EqualFold(name, claim) {
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
