//go:build unix

package tail

import (
	"os"
	"syscall"
)

// fileID returns the device and inode of a file: what tells a rotated file
// (same path, new inode) from the one being read.
func fileID(fi os.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true //nolint:unconvert // Dev is int32 on some unixes
}
