//go:build !linux

package objstore

// Elsewhere than Linux a lease names no process: a holder that died is
// replaced when its lease expires.
func selfProc() string { return "" }

func procGone(self, other string) bool { return false }
