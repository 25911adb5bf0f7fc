//go:build !race

package speed

const raceOn = false
