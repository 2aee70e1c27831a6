//go:build race

package hub

// raceDetector: the race detector doubles what goroutines' stacks need.
const raceDetector = true
