// Package jsonscan reads the members of one JSON object in place, without
// allocating, as strictly as encoding/json judges JSON valid, and valid
// UTF-8 besides. The WebSocket frames of package protocol and the claims
// of a token (package session) are read with it: both must refuse a
// member given twice or named in another case, which encoding/json
// cannot see.
package jsonscan
