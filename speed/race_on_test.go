//go:build race

package speed

// raceOn is set under the race detector, which makes the volume tests ten
// times slower; ci/test.sh runs them without it (their goroutines are the
// ones the other tests run under it).
const raceOn = true
