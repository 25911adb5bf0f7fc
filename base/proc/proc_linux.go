// Package proc names this process for the leases (batch's lake writer, the alert
// evaluator), tells whether a named process on this machine is gone, and
// binds the processes this one starts (a test's servers, chromium) to its
// life.
package proc

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// A lease document names the process that holds it (Self), so that a
// process started on the same machine after the holder was killed sees at
// once that the holder is gone, instead of waiting out the ttl: `up`
// restarted after a crash or a SIGKILL evaluates again within one
// interval. A process is named by the kernel's boot id, its pid namespace
// and its pid: only a holder of this boot and this pid namespace can be
// looked up, and only one whose pid no longer exists is gone. A reused pid
// looks alive, and the lease then expires by its ttl as before.

// Self names this process; "" when /proc cannot tell.
func Self() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s|%s|%d", strings.TrimSpace(string(boot)), ns, os.Getpid())
}

// Gone reports whether the process other names (Self's form) is
// known to have ended, as seen by the process self names.
func Gone(self, other string) bool {
	s, o := strings.Split(self, "|"), strings.Split(other, "|")
	if len(s) != 3 || len(o) != 3 || s[0] != o[0] || s[1] != o[1] || s[2] == o[2] {
		return false
	}
	var pid int
	if _, err := fmt.Sscanf(o[2], "%d", &pid); err != nil || pid <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
