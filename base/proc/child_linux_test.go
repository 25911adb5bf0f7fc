package proc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary play the parent that is killed: with
// PROC_TEST_PARENT set it starts the command bound (Bind), prints the
// pids of its child and grandchild and waits to be killed.
func TestMain(m *testing.M) {
	if os.Getenv("PROC_TEST_PARENT") == "" {
		os.Exit(m.Run())
	}
	// sh starts a grandchild sleep and prints both pids.
	cmd := exec.Command("/bin/sh", "-c", `sleep 300 & echo $$ $!; wait`)
	Bind(cmd)
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		fmt.Println("start:", err)
		os.Exit(1)
	}
	cmd.Wait()
	os.Exit(0)
}

// started runs the test binary as a parent of a bound sh and its sleep,
// and returns the parent and the two pids.
func started(t *testing.T) (parent *exec.Cmd, child, grandchild int) {
	t.Helper()
	parent = exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "PROC_TEST_PARENT=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 2 {
		parent.Process.Kill()
		parent.Wait()
		t.Fatalf("parent said %q: %v", line, err)
	}
	child, _ = strconv.Atoi(f[0])
	grandchild, _ = strconv.Atoi(f[1])
	t.Cleanup(func() {
		syscall.Kill(grandchild, syscall.SIGKILL)
		syscall.Kill(child, syscall.SIGKILL)
	})
	return parent, child, grandchild
}

// gone waits until pid no longer runs: it is gone, or a zombie (dead,
// waiting for init to reap it, which some containers' init does late). A
// minute is the bound, generous: the kernel signals at once.
func gone(pid int) bool {
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			return true
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if i := strings.LastIndexByte(string(stat), ')'); err == nil && i >= 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
			return true
		}
	}
	return false
}

// TestBindParentKilled: a parent killed with SIGKILL (as go test's
// timeout or CI does) takes its bound child with it.
func TestBindParentKilled(t *testing.T) {
	parent, child, _ := started(t)
	parent.Process.Kill()
	parent.Wait()
	if !gone(child) {
		t.Errorf("child %d still runs a minute after its parent was killed", child)
	}
}

// TestKillGroup: KillGroup ends the child and what it started.
func TestKillGroup(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", `sleep 300 & echo $!; wait`)
	Bind(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	grandchild, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		KillGroup(cmd)
		cmd.Wait()
		t.Fatalf("sh said %q", line)
	}
	if err := KillGroup(cmd); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if !gone(grandchild) {
		syscall.Kill(grandchild, syscall.SIGKILL)
		t.Errorf("grandchild %d still runs a minute after KillGroup", grandchild)
	}
}
