package protocol

import (
	"strconv"
	"unicode/utf8"
)

// This file scans the one JSON object of a frame without allocating. It
// accepts exactly what encoding/json accepts as valid (nesting included),
// plus the rule that the input be valid UTF-8.

// kind is the JSON type of a value.
type kind uint8

const (
	kindString kind = iota + 1
	kindNumber
	kindBool
	kindNull
	kindObject
	kindArray
)

// String returns the kind as an error message names it: "a string".
func (k kind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	case kindNull:
		return "null"
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	}
	return "nothing"
}

// maxDepth is how deeply arrays and objects may nest, the frame's object
// included, as in encoding/json.
const maxDepth = 10000

// member is one member of a frame's object as scanned. Its slices alias the
// frame.
type member struct {
	name         []byte // between the quotes, escapes not decoded
	value        []byte // raw; for a string, between the quotes
	nameEscaped  bool   // name holds a backslash escape
	valueEscaped bool   // value is a string holding a backslash escape
	kind         kind
}

// nameIs reports whether the member's decoded name is s.
func (m *member) nameIs(s string) bool {
	if !m.nameEscaped {
		return string(m.name) == s
	}
	return unescapedIs(m.name, s)
}

// decodedName returns the member's name with its escapes decoded.
func (m *member) decodedName() []byte {
	if !m.nameEscaped {
		return m.name
	}
	return appendUnescaped(nil, m.name)
}

// objectScanner reads the members of a frame's object one by one.
type objectScanner struct {
	data []byte
	i    int // offset of the next byte to read
	n    int // members read so far
}

// scanObject starts scanning data, which must be one JSON object.
func scanObject(data []byte) (objectScanner, *Error) {
	if !utf8.Valid(data) {
		return objectScanner{}, errBadJSON("invalid UTF-8")
	}
	i := skipSpace(data, 0)
	if i == len(data) {
		return objectScanner{}, errBadJSON("empty frame")
	}
	if data[i] != '{' {
		_, k, _, ok := scanScalar(data, i)
		switch {
		case data[i] == '[':
			k = kindArray
		case !ok:
			return objectScanner{}, errSyntax(data, i)
		}
		return objectScanner{}, errBadJSON("got " + k.String())
	}
	return objectScanner{data: data, i: i + 1}, nil
}

// next returns the next member of the object. At the end of the object it
// returns false, having checked that only whitespace follows.
func (s *objectScanner) next() (member, bool, *Error) {
	d := s.data
	i := skipSpace(d, s.i)
	if i < len(d) && d[i] == '}' {
		i = skipSpace(d, i+1)
		if i != len(d) {
			return member{}, false, errBadJSON("data after the object at byte " + strconv.Itoa(i))
		}
		s.i = i
		return member{}, false, nil
	}
	if s.n > 0 {
		if i == len(d) || d[i] != ',' {
			return member{}, false, errSyntax(d, i)
		}
		i = skipSpace(d, i+1)
	}
	if i == len(d) || d[i] != '"' {
		return member{}, false, errSyntax(d, i)
	}
	var m member
	end, esc, ok := scanString(d, i)
	if !ok {
		return member{}, false, errSyntax(d, end)
	}
	m.name, m.nameEscaped = d[i+1:end-1], esc
	i = skipSpace(d, end)
	if i == len(d) || d[i] != ':' {
		return member{}, false, errSyntax(d, i)
	}
	i = skipSpace(d, i+1)
	if i < len(d) && (d[i] == '{' || d[i] == '[') {
		m.kind = kindObject
		if d[i] == '[' {
			m.kind = kindArray
		}
		end, ok = skipContainer(d, i)
	} else {
		end, m.kind, m.valueEscaped, ok = scanScalar(d, i)
	}
	if !ok {
		return member{}, false, errSyntax(d, end)
	}
	m.value = d[i:end]
	if m.kind == kindString {
		m.value = d[i+1 : end-1]
	}
	s.i = end
	s.n++
	return m, true, nil
}

// skipSpace returns the offset of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanScalar scans the string, number, boolean or null at offset i and
// returns the offset after it. When ok is false, end is where the syntax
// error is.
func scanScalar(d []byte, i int) (end int, k kind, escaped, ok bool) {
	if i >= len(d) {
		return i, 0, false, false
	}
	switch c := d[i]; {
	case c == '"':
		end, escaped, ok = scanString(d, i)
		return end, kindString, escaped, ok
	case c == '-' || '0' <= c && c <= '9':
		end, ok = scanNumber(d, i)
		return end, kindNumber, false, ok
	case c == 't':
		return scanLiteral(d, i, "true", kindBool)
	case c == 'f':
		return scanLiteral(d, i, "false", kindBool)
	case c == 'n':
		return scanLiteral(d, i, "null", kindNull)
	}
	return i, 0, false, false
}

func scanLiteral(d []byte, i int, lit string, k kind) (int, kind, bool, bool) {
	for j := 0; j < len(lit); j++ {
		if i+j >= len(d) || d[i+j] != lit[j] {
			return i + j, k, false, false
		}
	}
	return i + len(lit), k, false, true
}

// scanString scans the string whose opening quote is at offset i and
// returns the offset after its closing quote, and whether it holds a
// backslash escape. It relies on the frame being valid UTF-8.
func scanString(d []byte, i int) (end int, escaped, ok bool) {
	j := i + 1
	for j < len(d) {
		c := d[j]
		if c >= 0x20 && c != '"' && c != '\\' {
			j++
			continue
		}
		switch {
		case c == '"':
			return j + 1, escaped, true
		case c < 0x20:
			return j, escaped, false
		}
		escaped = true
		if j+1 >= len(d) {
			return j + 1, escaped, false
		}
		switch d[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j += 2
		case 'u':
			for k := j + 2; k < j+6; k++ {
				if k >= len(d) || !isHex(d[k]) {
					return k, escaped, false
				}
			}
			j += 6
		default:
			return j + 1, escaped, false
		}
	}
	return j, escaped, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

// scanNumber scans the number at offset i and returns the offset after
// it.
func scanNumber(d []byte, i int) (end int, ok bool) {
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	default:
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i == len(d) || !isDigit(d[i]) {
			return i, false
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i == len(d) || !isDigit(d[i]) {
			return i, false
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	return i, true
}

// skipContainer scans the array or object that opens at offset i, a
// member's value, and returns the offset after it. It does not recurse:
// a bit stack remembers which containers are objects.
func skipContainer(d []byte, i int) (end int, ok bool) {
	const (
		afterOpen  = iota // after '[' or '{': a value, a name or the close
		wantName          // after ',' in an object
		wantValue         // after ',' in an array or ':' in an object
		afterValue        // a ',' or the close
	)
	var stack [maxDepth/64 + 1]uint64 // bit n set: container n is an object
	n := 0                            // containers open
	isObject := func() bool { return stack[(n-1)/64]&(1<<((n-1)%64)) != 0 }
	push := func(c byte) bool {
		if 1+n+1 > maxDepth { // the frame's object is depth 1
			return false
		}
		w, bit := n/64, uint64(1)<<(n%64)
		if c == '{' {
			stack[w] |= bit
		} else {
			stack[w] &^= bit
		}
		n++
		return true
	}
	closes := func(c byte) bool {
		if isObject() {
			return c == '}'
		}
		return c == ']'
	}

	push(d[i])
	i++
	state := afterOpen
	for {
		i = skipSpace(d, i)
		if i == len(d) {
			return i, false
		}
		c := d[i]
		switch state {
		case afterOpen, afterValue:
			if closes(c) {
				i++
				n--
				if n == 0 {
					return i, true
				}
				state = afterValue
				continue
			}
			if state == afterValue {
				if c != ',' {
					return i, false
				}
				i++
			}
			state = wantValue
			if isObject() {
				state = wantName
			}
		case wantName:
			if c != '"' {
				return i, false
			}
			end, _, ok := scanString(d, i)
			if !ok {
				return end, false
			}
			i = skipSpace(d, end)
			if i == len(d) || d[i] != ':' {
				return i, false
			}
			i++
			state = wantValue
		case wantValue:
			if c == '{' || c == '[' {
				if !push(c) {
					return i, false
				}
				i++
				state = afterOpen
				continue
			}
			end, _, _, ok := scanScalar(d, i)
			if !ok {
				return end, false
			}
			i = end
			state = afterValue
		}
	}
}
