package protocol

import (
	"strconv"

	"github.com/presence-dev/presence/internal/jsonscan"
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
	s, err := jsonscan.ScanObject(data)
	if err != nil {
		return ServerFrame{}, errBadJSON(err.Detail)
	}
	var (
		vals  [numServerFields]jsonscan.Member
		count [numServerFields]uint8
	)
	for {
		m, ok, err := s.Next()
		if err != nil {
			return ServerFrame{}, errBadJSON(err.Detail)
		}
		if !ok {
			break
		}
		for id, name := range serverNames {
			if m.NameIs(name) {
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
	case vals[sfType].Kind != jsonscan.KindString:
		return ServerFrame{}, errNotString("type", vals[sfType].Kind)
	}
	t := typeOf(&vals[sfType])
	if !isServerType(t) {
		return ServerFrame{}, &Error{Code: CodeUnknownType, Message: "unknown server frame type " +
			echo(jsonscan.AppendUnescaped(nil, vals[sfType].Value))}
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
			n, err := strconv.ParseInt(string(m.Value), 10, 64)
			if m.Kind != jsonscan.KindNumber || err != nil {
				return ServerFrame{}, &Error{Code: CodeBadField, Message: serverNames[id] +
					" must be a whole number that fits in 64 bits, got " + m.Kind.String()}
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
			if m.Kind != jsonscan.KindString {
				return ServerFrame{}, errNotString(serverNames[id], m.Kind)
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
