package testkit

import (
	"context"
	"os/exec"

	"github.com/loglambda/loglambda/base/proc"
)

// Command is exec.Command for every process a test starts (loglambda,
// S3 and SMTP servers, Alertmanager, chromium, kcat, python): bound to
// the test binary (proc.Bind), it dies with it when go test's -timeout or
// CI kills the binary, instead of keeping its ports and CPU; Kill ends it
// and the processes it started.
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	proc.Bind(cmd)
	return cmd
}

// CommandContext is Command ended (with its process group) when ctx is.
func CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	proc.Bind(cmd)
	return cmd
}

// Kill kills the process of cmd (started by Command) and its group with
// SIGKILL; the caller still waits for cmd.
func Kill(cmd *exec.Cmd) { _ = proc.KillGroup(cmd) }
