package protocol

// Subprotocol is the WebSocket subprotocol of protocol v1. A server selects
// it when the client offers it.
const Subprotocol = "presence.v1"

// Type is the value of a frame's "type" member.
type Type string

// Client to server frame types.
const (
	// TypeHello is the first frame of a connection: token, idle_ms, path,
	// passive.
	TypeHello Type = "hello"
	// TypeActivity reports that the person was active idle_ms ago.
	TypeActivity Type = "activity"
	// TypeExtend says the person pressed "stay signed in".
	TypeExtend Type = "extend"
	// TypeLogout ends the session in every tab now.
	TypeLogout Type = "logout"
	// TypePong answers a ping.
	TypePong Type = "pong"
	// TypeTabs says how many tabs of one browser the connection speaks
	// for (tabs), when they share it (the client's shareSocket); the
	// server answers with a state frame. An extension of protocol v1.
	TypeTabs Type = "tabs"
	// TypeJoin says that a tab of the browser joined the connection it
	// shares: its hello's idle_ms, path and passive, which count as that
	// hello's would. An extension of protocol v1.
	TypeJoin Type = "join"
)

// MaxSharedTabs is the largest tabs a tabs frame may give.
const MaxSharedTabs = 1000

// MaxSharedAllowance caps how many tabs' worth of frames (FrameRate,
// FrameBurst) a connection that tabs share may send: its tabs, at most
// this many.
const MaxSharedAllowance = 10

// Server to client frame types.
const (
	// TypeState is a snapshot of the session; see State.
	TypeState Type = "state"
	// TypeWarn says the session will expire unless there is activity.
	TypeWarn Type = "warn"
	// TypeExpire says the session is over; see Expire.
	TypeExpire Type = "expire"
	// TypePing asks for a pong.
	TypePing Type = "ping"
	// TypeError says what was wrong with the last frame; see Error.
	TypeError Type = "error"
	// TypeToken hands the tab a fresh token for its session, for its
	// reconnects and pings; see Token.
	TypeToken Type = "token"
)

// MaxIdleMS is the largest idle_ms accepted: JavaScript's largest safe
// integer, 2⁵³-1.
const MaxIdleMS = 1<<53 - 1

// ClientFrame is one decoded client-to-server frame. Only the fields of its
// Type are set.
type ClientFrame struct {
	Type Type
	// Token is the session token of a hello frame. It may be empty when
	// the token comes in a cookie instead.
	Token string
	// IdleMS is how long ago, in milliseconds, the tab last saw the person
	// active, in hello and activity frames. It is 0 when absent and never
	// more than MaxIdleMS in a decoded frame.
	IdleMS int64
	// Path is the page's path, in hello frames.
	Path string
	// Passive marks a hello whose page load is not activity: a passive
	// page (a dashboard that reloads itself) joins its session without
	// moving the last activity of a session presence already knows. An
	// extension of protocol v1; absent means false.
	Passive bool
	// Tabs is how many tabs a tabs frame speaks for, from 1 to
	// MaxSharedTabs.
	Tabs int
}

// Status is the status member of a state frame.
type Status string

// Statuses of a session, as a state frame reports them.
const (
	StatusActive  Status = "active"
	StatusWarning Status = "warning"
)

// Reason is the reason member of an expire frame.
type Reason string

// Reasons a session ends.
const (
	// ReasonIdle means nobody was active in any tab for expire_after.
	ReasonIdle Reason = "idle"
	// ReasonLogout means a tab sent a logout frame.
	ReasonLogout Reason = "logout"
	// ReasonRevoked means the server ended the session.
	ReasonRevoked Reason = "revoked"
	// ReasonLifetime means the session reached its absolute end (the
	// token's end_at, or the server's -max-lifetime), whatever the
	// activity.
	ReasonLifetime Reason = "lifetime"
)

// WarnKind is the kind member of a warn frame: which end the warning is
// for.
type WarnKind string

const (
	// WarnIdle: the idle end, which activity in any tab moves.
	WarnIdle WarnKind = "idle"
	// WarnLifetime: the absolute end, which nothing moves.
	WarnLifetime WarnKind = "lifetime"
)

// State is the state frame: a snapshot of the session, sent after hello
// and whenever the session turns active again. Durations are milliseconds.
type State struct {
	Status        Status
	IdleMS        int64
	WarnAfterMS   int64
	ExpireAfterMS int64
	ExpireInMS    int64
	// EndInMS is the time left until the session's absolute end, written
	// as end_in_ms when HasEnd: an extension of v1, absent for a session
	// with none.
	EndInMS int64
	HasEnd  bool
}

// Warn is the warn frame: the session expires in ExpireInMS milliseconds,
// unless there is activity when Kind is WarnIdle. An empty Kind is written
// as WarnIdle.
type Warn struct {
	ExpireInMS int64
	Kind       WarnKind
}

// Expire is the expire frame: the session is over. RedirectURL is where the
// tab goes next; when it is empty the tab reloads.
type Expire struct {
	Reason      Reason
	RedirectURL string
}

// Ping is the ping frame. A client answers it with a pong frame.
type Ping struct{}

// Token is the token frame: a fresh token for the tab's session, sent
// before the tab's own is half the server's token max age old, so that a
// page open all day never presents a token too old to be accepted.
type Token struct {
	Token string
}

// ServerFrame is one decoded server-to-client frame, for Go clients and
// tests. Only the fields of its Type are set.
type ServerFrame struct {
	Type Type

	// state
	Status        Status
	IdleMS        int64
	WarnAfterMS   int64
	ExpireAfterMS int64
	ExpireInMS    int64 // also warn
	EndInMS       int64 // HasEnd: end_in_ms was given
	HasEnd        bool

	// warn
	Kind WarnKind

	// expire
	Reason      Reason
	RedirectURL string

	// error
	Code    string
	Message string

	// token
	Token string
}

// isClientType reports whether t is a client-to-server frame type.
func isClientType(t Type) bool {
	switch t {
	case TypeHello, TypeActivity, TypeExtend, TypeLogout, TypePong, TypeTabs, TypeJoin:
		return true
	}
	return false
}

// isServerType reports whether t is a server-to-client frame type.
func isServerType(t Type) bool {
	switch t {
	case TypeState, TypeWarn, TypeExpire, TypePing, TypeError, TypeToken:
		return true
	}
	return false
}
