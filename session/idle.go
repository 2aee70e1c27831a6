package session

import "time"

// MaxIdle caps a reported idle time, so that any number a client sends
// fits a time.Duration and the stores' arithmetic. An idle of a century
// ends a session as surely as a longer one.
const MaxIdle = 100 * 365 * 24 * time.Hour

// IdleMillis returns an idle time reported in milliseconds, as a frame's
// idle_ms: a negative one counts as 0, one past MaxIdle as MaxIdle.
func IdleMillis(ms int64) time.Duration { return clampIdle(ms, time.Millisecond) }

// IdleSeconds returns an idle time reported in seconds, as the classic
// ping's idleFor and the server API's idle_s: a negative one counts as 0,
// one past MaxIdle as MaxIdle.
func IdleSeconds(s int64) time.Duration { return clampIdle(s, time.Second) }

func clampIdle(n int64, unit time.Duration) time.Duration {
	switch {
	case n <= 0:
		return 0
	case n >= int64(MaxIdle/unit):
		return MaxIdle
	}
	return time.Duration(n) * unit
}
