package protocol

import (
	"strconv"
)

// DecodeServer decodes one server-to-client frame, for Go clients and
// tests.
//
// It is lenient where DecodeClient is strict: it ignores members the
// frame's type does not define, so a client keeps working when a later
// server adds some, and it does not check that status and reason hold
// known values. It is still typed: data must be one JSON object whose
// "type" is a server frame type, each member of that type at most once,
// integers whole numbers that fit in an int64, and strings strings. Every
// error is an *Error.
func DecodeServer(data []byte) (ServerFrame, error) {
	f, err := decodeServer(data)
	if err != nil {
		return ServerFrame{}, err
	}
	return f, nil
}

// Members of server frames, as indexes and as bits.
const (
	sfType = iota
	sfStatus
	sfIdleMS
	sfWarnAfterMS
	sfExpireAfterMS
	sfExpireInMS
	sfReason
	sfRedirectURL
	sfCode
	sfMessage
	sfToken
	sfEndInMS
	sfKind
	numServerFields
)

var serverNames = [numServerFields]string{
	sfType:          "type",
	sfStatus:        "status",
	sfIdleMS:        "idle_ms",
	sfWarnAfterMS:   "warn_after_ms",
	sfExpireAfterMS: "expire_after_ms",
	sfExpireInMS:    "expire_in_ms",
	sfReason:        "reason",
	sfRedirectURL:   "redirect_url",
	sfCode:          "code",
	sfMessage:       "message",
	sfToken:         "token",
	sfEndInMS:       "end_in_ms",
	sfKind:          "kind",
}

// serverFieldsOf returns the bits of the members besides "type" that
// frames of type t define.
func serverFieldsOf(t Type) uint16 {
	switch t {
	case TypeState:
		return 1<<sfStatus | 1<<sfIdleMS | 1<<sfWarnAfterMS | 1<<sfExpireAfterMS | 1<<sfExpireInMS | 1<<sfEndInMS
	case TypeWarn:
		return 1<<sfExpireInMS | 1<<sfKind
	case TypeExpire:
		return 1<<sfReason | 1<<sfRedirectURL
	case TypeError:
		return 1<<sfCode | 1<<sfMessage
	case TypeToken:
		return 1 << sfToken
	}
	return 0
}

func decodeServer(data []byte) (ServerFrame, *Error) {
	s, err := scanObject(data)
	if err != nil {
		return ServerFrame{}, err
	}
	var (
		vals  [numServerFields]member
		count [numServerFields]uint8
	)
	for {
		m, ok, err := s.next()
		if err != nil {
			return ServerFrame{}, err
		}
		if !ok {
			break
		}
		for id, name := range serverNames {
			if m.nameIs(name) {
				if count[id] == 0 {
					vals[id] = m
				}
				count[id] = min(count[id]+1, 2)
				break
			}
		}
	}

	switch {
	case count[sfType] == 0:
		return ServerFrame{}, &Error{Code: CodeMissingType, Message: `frame has no "type" member`}
	case count[sfType] > 1:
		return ServerFrame{}, errDuplicate("type")
	case vals[sfType].kind != kindString:
		return ServerFrame{}, errNotString("type", vals[sfType].kind)
	}
	t := typeOf(&vals[sfType])
	if !isServerType(t) {
		return ServerFrame{}, &Error{Code: CodeUnknownType, Message: "unknown server frame type " +
			echo(appendUnescaped(nil, vals[sfType].value))}
	}

	f := ServerFrame{Type: t}
	fields := serverFieldsOf(t)
	for id := range numServerFields {
		if fields&(1<<id) == 0 || count[id] == 0 {
			continue
		}
		if count[id] > 1 {
			return ServerFrame{}, errDuplicate(serverNames[id])
		}
		m := &vals[id]
		switch id {
		case sfIdleMS, sfWarnAfterMS, sfExpireAfterMS, sfExpireInMS, sfEndInMS:
			n, err := strconv.ParseInt(string(m.value), 10, 64)
			if m.kind != kindNumber || err != nil {
				return ServerFrame{}, &Error{Code: CodeBadField, Message: serverNames[id] +
					" must be a whole number that fits in 64 bits, got " + m.kind.String()}
			}
			switch id {
			case sfIdleMS:
				f.IdleMS = n
			case sfWarnAfterMS:
				f.WarnAfterMS = n
			case sfExpireAfterMS:
				f.ExpireAfterMS = n
			case sfExpireInMS:
				f.ExpireInMS = n
			case sfEndInMS:
				f.EndInMS, f.HasEnd = n, true
			}
		default:
			if m.kind != kindString {
				return ServerFrame{}, errNotString(serverNames[id], m.kind)
			}
			v := stringValue(m)
			switch id {
			case sfStatus:
				f.Status = Status(v)
			case sfReason:
				f.Reason = Reason(v)
			case sfRedirectURL:
				f.RedirectURL = v
			case sfCode:
				f.Code = v
			case sfMessage:
				f.Message = v
			case sfToken:
				f.Token = v
			case sfKind:
				f.Kind = WarnKind(v)
			}
		}
	}
	return f, nil
}
