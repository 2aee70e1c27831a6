package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/presence-dev/presence/internal/jsonscan"
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

// errNotClaims is decodeClaims' error for a payload that is not a JSON
// object of claims.
var errNotClaims = invalid("its payload is not a JSON object of claims")

// decodeClaims reads a token's payload into c. It takes what
// json.Unmarshal takes into a Claims, with the same values, and refuses
// with a *ClaimsError a claim's name in another case, or a member given
// twice, where json.Unmarshal would take them; it also refuses a payload
// that is not UTF-8, as JSON must be. A claim of the wrong JSON type is a
// *ClaimsError naming it (end_at's, errNotClaims), and anything else
// errNotClaims. Every hello's and every ping's token goes through it:
// jsonscan reads the payload in place, and only the strings kept are
// allocated.
func decodeClaims(data []byte, c *Claims) error {
	obj, err := jsonscan.ScanObject(data)
	if err != nil {
		if string(bytes.TrimSpace(data)) == "null" {
			return nil // as json.Unmarshal: nothing to set
		}
		return errNotClaims
	}
	var seen [len(claimNames)]bool
	var others [][]byte // the members that are no claim, rarely any
	var typeErr error   // the first, returned once every name is checked
	for {
		m, ok, err := obj.Next()
		if err != nil {
			return errNotClaims
		}
		if !ok {
			return typeErr
		}
		name := m.DecodedName()
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
			continue
		}
		seen[claim] = true
		if err := setClaim(c, claim, &m); err != nil && typeErr == nil {
			typeErr = err
		}
	}
}

// setClaim sets claim k of c from member m as json.Unmarshal would: null
// leaves the claim as it is. A value of another JSON type than the
// claim's is an error.
func setClaim(c *Claims, k int, m *jsonscan.Member) error {
	if m.Kind == jsonscan.KindNull {
		return nil
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
	if s != nil {
		if m.Kind != jsonscan.KindString {
			return &ClaimsError{claimNames[k], "must be a JSON string"}
		}
		if m.ValueEscaped {
			*s = string(jsonscan.AppendUnescaped(nil, m.Value))
		} else {
			*s = string(m.Value)
		}
		return nil
	}
	v, err := strconv.ParseInt(string(m.Value), 10, 64)
	switch {
	case (m.Kind != jsonscan.KindNumber || err != nil) && k == claimEndAt:
		return errNotClaims
	case m.Kind != jsonscan.KindNumber || err != nil:
		return &ClaimsError{claimNames[k], "must be a whole number of seconds"}
	}
	*n = v
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
