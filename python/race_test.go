//go:build race

package python

// raceEnabled reports whether the tests run with the race detector.
const raceEnabled = true
