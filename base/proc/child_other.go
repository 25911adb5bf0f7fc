//go:build !linux

package proc

import "os/exec"

// Bind does nothing elsewhere than Linux (no parent-death signal): a
// process cmd starts outlives this one if this one is killed.
func Bind(cmd *exec.Cmd) {}

// KillGroup kills cmd's process.
func KillGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
