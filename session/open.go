package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"sync"
)

// A token is gorilla/securecookie's format, which every backend's helper
// writes (Mint does it with securecookie itself): base64url, padded, of
// "ts|value|mac", where ts is the Unix second it was minted at, value the
// base64url of the JSON claims, and mac the HMAC-SHA256, keyed with the
// secret, of "presence|ts|value". Verify reads it here rather than with
// securecookie's Decode, which sets up a fresh HMAC, its key schedule
// included, for every token: every hello and every ping verifies one.

// macPrefix is what a token's MAC covers before "ts|value": the
// securecookie name.
var macPrefix = []byte(cookieName + "|")

// opener checks tokens' MACs under one secret, with HMAC states that are
// kept and reset rather than made for each token.
type opener struct {
	macs sync.Pool // of hash.Hash, each HMAC-SHA256 keyed with the secret
}

func newOpener(secret []byte) *opener {
	key := bytes.Clone(secret)
	return &opener{macs: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// signed reports whether mac is the MAC of "presence|" + signed under the
// opener's secret, comparing in constant time.
func (o *opener) signed(signed, mac []byte) bool {
	h := o.macs.Get().(hash.Hash)
	defer o.macs.Put(h)
	h.Reset()
	h.Write(macPrefix)
	h.Write(signed)
	var sum [sha256.Size]byte
	return hmac.Equal(h.Sum(sum[:0]), mac)
}

// errSignature refuses a token whose MAC matches none of the secrets.
var errSignature = invalid(`its signature does not match: it was minted with another secret, under a cookie name other than %q, or altered`, cookieName)

// open checks token's MAC under each secret in turn and returns its
// timestamp and its payload, the claims' JSON. The token is base64url,
// as Verify checked. The checks come in securecookie's order: the MAC,
// then the timestamp, then the payload's base64.
func (v *Verifier) open(token string) (ts int64, payload []byte, err error) {
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil {
		return 0, nil, errNotBase64
	}
	// The MAC may hold any byte, '|' too: it is what follows the second.
	first := bytes.IndexByte(raw, '|')
	second := -1
	if first >= 0 {
		if i := bytes.IndexByte(raw[first+1:], '|'); i >= 0 {
			second = first + 1 + i
		}
	}
	if second < 0 || !v.signedByOne(raw[:second], raw[second+1:]) {
		return 0, nil, errSignature
	}
	if ts, err = strconv.ParseInt(string(raw[:first]), 10, 64); err != nil {
		return 0, nil, invalid("its timestamp is not an integer")
	}
	value := raw[first+1 : second]
	payload = make([]byte, base64.URLEncoding.DecodedLen(len(value)))
	n, err := base64.URLEncoding.Decode(payload, value)
	if err != nil {
		return 0, nil, errNotBase64
	}
	return ts, payload[:n], nil
}

// signedByOne reports whether mac signs signed under one of the secrets.
func (v *Verifier) signedByOne(signed, mac []byte) bool {
	for _, o := range v.openers {
		if o.signed(signed, mac) {
			return true
		}
	}
	return false
}
