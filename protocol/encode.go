package protocol

import (
	"strconv"
	"unicode/utf8"
)

// The AppendJSON methods append a frame's JSON encoding to b and return the
// extended buffer, as strconv's Append functions do. Given a b with room
// enough they do not allocate, so the server can encode a frame once per
// broadcast into a pooled buffer. They write members in a fixed order and
// escape strings exactly as encoding/json does, HTML characters included.

// AppendJSON appends the state frame, every member always written:
//
//	{"type":"state","status":"active","idle_ms":0,"warn_after_ms":540000,"expire_after_ms":600000,"expire_in_ms":600000}
//
// but end_in_ms, written after them when the session has an absolute end.
func (f State) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":"state","status":`...)
	b = appendString(b, string(f.Status))
	b = append(b, `,"idle_ms":`...)
	b = strconv.AppendInt(b, f.IdleMS, 10)
	b = append(b, `,"warn_after_ms":`...)
	b = strconv.AppendInt(b, f.WarnAfterMS, 10)
	b = append(b, `,"expire_after_ms":`...)
	b = strconv.AppendInt(b, f.ExpireAfterMS, 10)
	b = append(b, `,"expire_in_ms":`...)
	b = strconv.AppendInt(b, f.ExpireInMS, 10)
	if f.HasEnd {
		b = append(b, `,"end_in_ms":`...)
		b = strconv.AppendInt(b, f.EndInMS, 10)
	}
	return append(b, '}')
}

// AppendJSON appends the warn frame:
// {"type":"warn","expire_in_ms":60000,"kind":"idle"}.
func (f Warn) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":"warn","expire_in_ms":`...)
	b = strconv.AppendInt(b, f.ExpireInMS, 10)
	b = append(b, `,"kind":`...)
	if f.Kind == "" {
		f.Kind = WarnIdle
	}
	b = appendString(b, string(f.Kind))
	return append(b, '}')
}

// AppendJSON appends the expire frame, redirect_url written even when
// empty: {"type":"expire","reason":"idle","redirect_url":"/logout/"}.
func (f Expire) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":"expire","reason":`...)
	b = appendString(b, string(f.Reason))
	b = append(b, `,"redirect_url":`...)
	b = appendString(b, f.RedirectURL)
	return append(b, '}')
}

// AppendJSON appends the ping frame: {"type":"ping"}.
func (Ping) AppendJSON(b []byte) []byte {
	return append(b, `{"type":"ping"}`...)
}

// AppendJSON appends the token frame: {"type":"token","token":"..."}.
func (f Token) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":"token","token":`...)
	b = appendString(b, f.Token)
	return append(b, '}')
}

// AppendJSON appends the error frame:
// {"type":"error","code":"bad_json","message":"..."}.
func (e *Error) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":"error","code":`...)
	b = appendString(b, e.Code)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	return append(b, '}')
}

// AppendJSON appends the client frame, for Go clients and tests. It writes
// "type" and the members f.Type defines (none for a type that is not a
// client frame type), leaving out those that are empty or zero, which
// DecodeClient reads as absent. It does not check f: a negative IdleMS is
// written as is, and DecodeClient refuses it.
func (f ClientFrame) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, string(f.Type))
	switch f.Type {
	case TypeHello, TypeJoin: // a join is a hello without its token
		if f.Type == TypeHello && f.Token != "" {
			b = append(b, `,"token":`...)
			b = appendString(b, f.Token)
		}
		b = appendIdleMS(b, f.IdleMS)
		if f.Path != "" {
			b = append(b, `,"path":`...)
			b = appendString(b, f.Path)
		}
		if f.Passive {
			b = append(b, `,"passive":true`...)
		}
	case TypeActivity:
		b = appendIdleMS(b, f.IdleMS)
	case TypeTabs:
		b = append(b, `,"tabs":`...)
		b = strconv.AppendInt(b, int64(f.Tabs), 10)
	}
	return append(b, '}')
}

func appendIdleMS(b []byte, n int64) []byte {
	if n == 0 {
		return b
	}
	b = append(b, `,"idle_ms":`...)
	return strconv.AppendInt(b, n, 10)
}

// safe reports which ASCII bytes a JSON string holds unescaped: all but
// control characters, '"', '\\' and, as encoding/json escapes them for
// HTML, '<', '>' and '&'.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, byte for byte as encoding/json
// writes it: short escapes for \b \f \n \r \t, \u00XX for the other control
// characters and for < > &, \u2028 and \u2029 escaped, and each byte of
// invalid UTF-8 written as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
