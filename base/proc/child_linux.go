package proc

import (
	"os/exec"
	"syscall"
)

// Bind makes the process cmd will start end with this one: the kernel
// sends it SIGKILL when the thread that started it ends (Go keeps its
// threads while the process runs, unless a goroutine exits locked to
// one), so a test binary killed by its timeout or by CI, or a tool
// killed with -9, leaves no chromium, S3 server or loglambda behind
// holding ports and CPU. It also gets a process group of its own, which
// KillGroup ends whole (chromium's helpers, a shell's command), and a
// cancelled context (exec.CommandContext) kills that whole group. Call it
// before cmd.Start.
func Bind(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setpgid = true
	if cmd.Cancel != nil {
		cmd.Cancel = func() error { return KillGroup(cmd) }
	}
}

// KillGroup kills cmd's process and every process of its group (Bind gave
// it one) with SIGKILL; the caller still waits for cmd.
func KillGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	if cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid {
		// The group outlives its leader while a member runs; ESRCH
		// when all are gone.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return cmd.Process.Kill()
}
