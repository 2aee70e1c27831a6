package protocol

import (
	"bytes"
	"strconv"

	"github.com/presence-dev/presence/internal/jsonscan"
)

// DecodeClient decodes one client-to-server frame: the payload of one
// WebSocket text message.
//
// It is strict. data must be exactly one JSON object in valid UTF-8 with
// nothing but whitespace after it. Its "type" must be a client frame type,
// and its other members exactly those that type defines, each at most
// once, with names matched case-sensitively: token and path must be JSON
// strings, idle_ms a whole number from 0 to MaxIdleMS written without
// fraction or exponent, tabs one from 1 to MaxSharedTabs. Absent members leave their fields zero.
//
// Every error is an *Error whose Code is one of the Code constants. When a
// frame has several faults, a bad_json fault is reported first, then a
// fault of "type", then the first faulty member in document order.
//
// DecodeClient does not limit the size of data: the server limits the size
// of the messages it reads. Decoding an activity frame does not allocate.
func DecodeClient(data []byte) (ClientFrame, error) {
	f, err := decodeClient(data)
	if err != nil {
		return ClientFrame{}, err
	}
	return f, nil
}

// clientField is a bit naming a member of a client frame besides "type".
type clientField uint8

const (
	fieldToken clientField = 1 << iota
	fieldIdleMS
	fieldPath
	fieldPassive
	fieldTabs
)

// fieldsOf returns the members besides "type" that frames of type t define.
func fieldsOf(t Type) clientField {
	switch t {
	case TypeHello:
		return fieldToken | fieldIdleMS | fieldPath | fieldPassive
	case TypeActivity:
		return fieldIdleMS
	case TypeTabs:
		return fieldTabs
	case TypeJoin:
		return fieldIdleMS | fieldPath | fieldPassive
	}
	return 0
}

// clientFieldOf returns the bit of the member's name, or 0 if it names no
// member of any client frame.
func clientFieldOf(m *jsonscan.Member) clientField {
	switch {
	case m.NameIs("token"):
		return fieldToken
	case m.NameIs("idle_ms"):
		return fieldIdleMS
	case m.NameIs("path"):
		return fieldPath
	case m.NameIs("passive"):
		return fieldPassive
	case m.NameIs("tabs"):
		return fieldTabs
	}
	return 0
}

func decodeClient(data []byte) (ClientFrame, *Error) {
	s, err := jsonscan.ScanObject(data)
	if err != nil {
		return ClientFrame{}, errBadJSON(err.Detail)
	}
	// Keep "type" and the first members besides it. A frame has at most
	// three of those, so among any four there is a fault to report.
	var (
		typ      jsonscan.Member
		ntype    int
		rest     [5]jsonscan.Member
		nrest    int
		typeLike []byte // a name that is "type" in another case
	)
	for {
		m, ok, err := s.Next()
		if err != nil {
			return ClientFrame{}, errBadJSON(err.Detail)
		}
		if !ok {
			break
		}
		if m.NameIs("type") {
			if ntype == 0 {
				typ = m
			}
			ntype++
			continue
		}
		if typeLike == nil && len(m.Name) == 4 && bytes.EqualFold(m.Name, []byte("type")) {
			typeLike = m.Name
		}
		if nrest < len(rest) {
			rest[nrest] = m
			nrest++
		}
	}

	switch {
	case ntype == 0:
		msg := `frame has no "type" member`
		if typeLike != nil {
			msg += " (names are case-sensitive: found " + echo(typeLike) + ")"
		}
		return ClientFrame{}, &Error{Code: CodeMissingType, Message: msg}
	case ntype > 1:
		return ClientFrame{}, errDuplicate("type")
	case typ.Kind != jsonscan.KindString:
		return ClientFrame{}, errNotString("type", typ.Kind)
	}
	t := typeOf(&typ)
	if !isClientType(t) {
		return ClientFrame{}, errUnknownType(&typ, t)
	}

	f := ClientFrame{Type: t}
	allowed := fieldsOf(t)
	var seen clientField
	var token, path *jsonscan.Member
	for i := range rest[:nrest] {
		m := &rest[i]
		fld := clientFieldOf(m)
		if fld&allowed == 0 {
			return ClientFrame{}, errUnknownField(m, t)
		}
		if seen&fld != 0 {
			return ClientFrame{}, errDuplicate(string(m.DecodedName()))
		}
		seen |= fld
		switch fld {
		case fieldIdleMS:
			n, ok := parseIdleMS(m)
			if !ok {
				return ClientFrame{}, errIdleMS(m)
			}
			f.IdleMS = n
		case fieldToken:
			if m.Kind != jsonscan.KindString {
				return ClientFrame{}, errNotString("token", m.Kind)
			}
			token = m
		case fieldPath:
			if m.Kind != jsonscan.KindString {
				return ClientFrame{}, errNotString("path", m.Kind)
			}
			path = m
		case fieldPassive:
			if m.Kind != jsonscan.KindBool {
				return ClientFrame{}, &Error{Code: CodeBadField, Message: "passive must be true or false, got " + m.Kind.String()}
			}
			f.Passive = m.Value[0] == 't'
		case fieldTabs:
			n, ok := parseIdleMS(m) // a whole number, written the same way
			if !ok || n < 1 || n > MaxSharedTabs {
				return ClientFrame{}, &Error{Code: CodeBadField, Message: "tabs must be a whole number from 1 to " +
					strconv.Itoa(MaxSharedTabs) + ", got " + echo(m.Value)}
			}
			f.Tabs = int(n)
		}
	}
	if t == TypeTabs && f.Tabs == 0 {
		return ClientFrame{}, &Error{Code: CodeBadField, Message: "a tabs frame needs tabs, a whole number from 1 to " + strconv.Itoa(MaxSharedTabs)}
	}
	f.Token = stringValue(token)
	f.Path = stringValue(path)
	return f, nil
}

// typeOf returns the frame type that the string member m holds: one of the
// Type constants, or "" for any other value. It does not allocate.
func typeOf(m *jsonscan.Member) Type {
	v := m.Value
	var buf [64]byte
	if m.ValueEscaped {
		if len(v) > 6*len("activity") {
			return ""
		}
		v = jsonscan.AppendUnescaped(buf[:0], v)
	}
	switch Type(v) {
	case TypeHello:
		return TypeHello
	case TypeActivity:
		return TypeActivity
	case TypeExtend:
		return TypeExtend
	case TypeLogout:
		return TypeLogout
	case TypePong:
		return TypePong
	case TypeTabs:
		return TypeTabs
	case TypeJoin:
		return TypeJoin
	case TypeState:
		return TypeState
	case TypeWarn:
		return TypeWarn
	case TypeExpire:
		return TypeExpire
	case TypeToken:
		return TypeToken
	case TypePing:
		return TypePing
	case TypeError:
		return TypeError
	}
	return ""
}

// stringValue returns the string member m holds, or "" if m is nil.
func stringValue(m *jsonscan.Member) string {
	switch {
	case m == nil:
		return ""
	case m.ValueEscaped:
		return string(jsonscan.AppendUnescaped(make([]byte, 0, len(m.Value)), m.Value))
	}
	return string(m.Value)
}

// parseIdleMS parses the member m as idle_ms.
func parseIdleMS(m *jsonscan.Member) (int64, bool) {
	if m.Kind != jsonscan.KindNumber || len(m.Value) > len("9007199254740991") {
		return 0, false
	}
	var n int64
	for _, c := range m.Value {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n <= MaxIdleMS
}

const clientTypes = "a client sends hello, activity, extend, logout, pong, tabs or join"

func errUnknownType(m *jsonscan.Member, t Type) *Error {
	if isServerType(t) {
		return &Error{Code: CodeUnknownType, Message: strconv.Quote(string(t)) +
			" is a server-to-client frame type (" + clientTypes + ")"}
	}
	return &Error{Code: CodeUnknownType, Message: "unknown frame type " +
		echo(jsonscan.AppendUnescaped(nil, m.Value)) + " (" + clientTypes + ")"}
}

func errUnknownField(m *jsonscan.Member, t Type) *Error {
	name := m.DecodedName()
	msg := "unknown field " + echo(name) + " in " + string(t) + " frame"
	names := []string{"type"}
	switch t {
	case TypeHello:
		names = append(names, "token", "idle_ms", "path")
	case TypeActivity:
		names = append(names, "idle_ms")
	}
	for _, n := range names {
		if bytes.EqualFold(name, []byte(n)) {
			return &Error{Code: CodeUnknownField, Message: msg +
				" (names are case-sensitive: did you mean " + strconv.Quote(n) + "?)"}
		}
	}
	switch len(names) {
	case 1:
		msg += " (it has only type)"
	case 2:
		msg += " (it has type and idle_ms)"
	default:
		msg += " (it has type, token, idle_ms and path)"
	}
	return &Error{Code: CodeUnknownField, Message: msg}
}

func errIdleMS(m *jsonscan.Member) *Error {
	got := m.Kind.String()
	if m.Kind == jsonscan.KindNumber {
		got = string(m.Value)
		if len(got) > maxEcho {
			got = got[:maxEcho] + "..."
		}
	}
	return &Error{Code: CodeBadField, Message: "idle_ms must be a whole number of milliseconds from 0 to " +
		strconv.FormatInt(MaxIdleMS, 10) + ", got " + got}
}

func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}
