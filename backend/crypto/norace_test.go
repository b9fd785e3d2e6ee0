//go:build !race

package crypto

// raceEnabled trims tests whose cost is all CPU and that the race detector
// only slows down.
const raceEnabled = false
