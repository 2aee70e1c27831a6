package jsonscan

import (
	"strconv"
	"unicode/utf8"
)

// This file scans one JSON object without allocating. It accepts exactly
// what encoding/json accepts as valid (nesting included), plus the rule
// that the input be valid UTF-8.

// Error says why the input is not one JSON object, in words that follow
// "must be one JSON object: ".
type Error struct {
	Detail string
}

func (e *Error) Error() string { return "not one JSON object: " + e.Detail }

func notObject(detail string) *Error { return &Error{Detail: detail} }

// errSyntax returns the error of a syntax error at offset i of data.
func errSyntax(data []byte, i int) *Error {
	if i >= len(data) {
		return notObject("unexpected end of data")
	}
	return notObject("syntax error at byte " + strconv.Itoa(i))
}

// Kind is the JSON type of a value.
type Kind uint8

const (
	KindString Kind = iota + 1
	KindNumber
	KindBool
	KindNull
	KindObject
	KindArray
)

// String returns the kind as an error message names it: "a string".
func (k Kind) String() string {
	switch k {
	case KindString:
		return "a string"
	case KindNumber:
		return "a number"
	case KindBool:
		return "a boolean"
	case KindNull:
		return "null"
	case KindObject:
		return "an object"
	case KindArray:
		return "an array"
	}
	return "nothing"
}

// MaxDepth is how deeply arrays and objects may nest, the scanned object
// included, as in encoding/json.
const MaxDepth = 10000

// Member is one member of an object as scanned. Its slices alias the
// input.
type Member struct {
	Name         []byte // between the quotes, escapes not decoded
	Value        []byte // raw; for a string, between the quotes
	NameEscaped  bool   // Name holds a backslash escape
	ValueEscaped bool   // Value is a string holding a backslash escape
	Kind         Kind
}

// NameIs reports whether the member's decoded name is s.
func (m *Member) NameIs(s string) bool {
	if !m.NameEscaped {
		return string(m.Name) == s
	}
	return unescapedIs(m.Name, s)
}

// DecodedName returns the member's name with its escapes decoded.
func (m *Member) DecodedName() []byte {
	if !m.NameEscaped {
		return m.Name
	}
	return AppendUnescaped(nil, m.Name)
}

// Object reads the members of an object one by one.
type Object struct {
	data []byte
	i    int // offset of the next byte to read
	n    int // members read so far
}

// ScanObject starts scanning data, which must be one JSON object.
func ScanObject(data []byte) (Object, *Error) {
	if !utf8.Valid(data) {
		return Object{}, notObject("invalid UTF-8")
	}
	i := skipSpace(data, 0)
	if i == len(data) {
		return Object{}, notObject("it is empty")
	}
	if data[i] != '{' {
		_, k, _, ok := scanScalar(data, i)
		switch {
		case data[i] == '[':
			k = KindArray
		case !ok:
			return Object{}, errSyntax(data, i)
		}
		return Object{}, notObject("got " + k.String())
	}
	return Object{data: data, i: i + 1}, nil
}

// Next returns the next member of the object. At the end of the object it
// returns false, having checked that only whitespace follows.
func (s *Object) Next() (Member, bool, *Error) {
	d := s.data
	i := skipSpace(d, s.i)
	if i < len(d) && d[i] == '}' {
		i = skipSpace(d, i+1)
		if i != len(d) {
			return Member{}, false, notObject("data after the object at byte " + strconv.Itoa(i))
		}
		s.i = i
		return Member{}, false, nil
	}
	if s.n > 0 {
		if i == len(d) || d[i] != ',' {
			return Member{}, false, errSyntax(d, i)
		}
		i = skipSpace(d, i+1)
	}
	if i == len(d) || d[i] != '"' {
		return Member{}, false, errSyntax(d, i)
	}
	var m Member
	end, esc, ok := ScanString(d, i)
	if !ok {
		return Member{}, false, errSyntax(d, end)
	}
	m.Name, m.NameEscaped = d[i+1:end-1], esc
	i = skipSpace(d, end)
	if i == len(d) || d[i] != ':' {
		return Member{}, false, errSyntax(d, i)
	}
	i = skipSpace(d, i+1)
	if i < len(d) && (d[i] == '{' || d[i] == '[') {
		m.Kind = KindObject
		if d[i] == '[' {
			m.Kind = KindArray
		}
		end, ok = skipContainer(d, i)
	} else {
		end, m.Kind, m.ValueEscaped, ok = scanScalar(d, i)
	}
	if !ok {
		return Member{}, false, errSyntax(d, end)
	}
	m.Value = d[i:end]
	if m.Kind == KindString {
		m.Value = d[i+1 : end-1]
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
func scanScalar(d []byte, i int) (end int, k Kind, escaped, ok bool) {
	if i >= len(d) {
		return i, 0, false, false
	}
	switch c := d[i]; {
	case c == '"':
		end, escaped, ok = ScanString(d, i)
		return end, KindString, escaped, ok
	case c == '-' || '0' <= c && c <= '9':
		end, ok = scanNumber(d, i)
		return end, KindNumber, false, ok
	case c == 't':
		return scanLiteral(d, i, "true", KindBool)
	case c == 'f':
		return scanLiteral(d, i, "false", KindBool)
	case c == 'n':
		return scanLiteral(d, i, "null", KindNull)
	}
	return i, 0, false, false
}

func scanLiteral(d []byte, i int, lit string, k Kind) (int, Kind, bool, bool) {
	for j := 0; j < len(lit); j++ {
		if i+j >= len(d) || d[i+j] != lit[j] {
			return i + j, k, false, false
		}
	}
	return i + len(lit), k, false, true
}

// ScanString scans the string whose opening quote is at offset i and
// returns the offset after its closing quote, and whether it holds a
// backslash escape. It relies on d being valid UTF-8.
func ScanString(d []byte, i int) (end int, escaped, ok bool) {
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
// Member's value, and returns the offset after it. It does not recurse:
// a bit stack remembers which containers are objects.
func skipContainer(d []byte, i int) (end int, ok bool) {
	const (
		afterOpen  = iota // after '[' or '{': a value, a name or the close
		wantName          // after ',' in an object
		wantValue         // after ',' in an array or ':' in an object
		afterValue        // a ',' or the close
	)
	var stack [MaxDepth/64 + 1]uint64 // bit n set: container n is an object
	n := 0                            // containers open
	isObject := func() bool { return stack[(n-1)/64]&(1<<((n-1)%64)) != 0 }
	push := func(c byte) bool {
		if 1+n+1 > MaxDepth { // the scanned object is depth 1
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
			end, _, ok := ScanString(d, i)
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
