package alerts

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/proc"
	"github.com/loglambda/loglambda/internal/testkit"
)

// endedPid runs a short process to its end and returns its pid, which
// names no process for a while (the kernel hands pids out in order).
func endedPid(t *testing.T) int {
	t.Helper()
	cmd := testkit.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestProcGone(t *testing.T) {
	self := proc.Self()
	if strings.Count(self, "|") != 2 {
		t.Fatalf("proc.Self() = %q, want boot|pidns|pid", self)
	}
	// set returns proc with its part i (0 boot, 1 pid namespace, 2 pid)
	// replaced by v.
	set := func(proc string, i int, v string) string {
		p := strings.Split(proc, "|")
		p[i] = v
		return strings.Join(p, "|")
	}
	sleeper := testkit.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { testkit.Kill(sleeper); _ = sleeper.Wait() }()
	ended := set(self, 2, fmt.Sprint(endedPid(t)))
	for _, tc := range []struct {
		name, other string
		gone        bool
	}{
		{"ended process of this boot and namespace", ended, true},
		{"running process", set(self, 2, fmt.Sprint(sleeper.Process.Pid)), false},
		{"this process", self, false},
		{"ended process of another boot", set(ended, 0, "00000000-0000-0000-0000-000000000000"), false},
		{"ended process of another pid namespace", set(ended, 1, "pid:[1]"), false},
		{"unknown", "", false},
		{"malformed pid", set(self, 2, "x"), false},
		{"no pid", set(self, 2, "0"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := proc.Gone(self, tc.other); got != tc.gone {
				t.Errorf("proc.Gone(%q, %q) = %v, want %v", self, tc.other, got, tc.gone)
			}
		})
	}
}

// TestLeaseHolderGone: a live lease whose holder's process has ended is
// taken at once, with the next epoch; one whose holder still runs is not.
func TestLeaseHolderGone(t *testing.T) {
	ctx := testkit.Context(t, time.Minute)
	db := testkit.MongoClient(t).Database("lease_gone")
	coll := db.Collection(Collection)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	parts := strings.Split(proc.Self(), "|")
	procOf := func(pid int) string { return fmt.Sprintf("%s|%s|%d", parts[0], parts[1], pid) }

	// The holder of epoch 1 runs (the test's parent, go test): not taken.
	if _, err := coll.InsertOne(ctx, leaseDoc{ID: leaseID(1), Kind: kindLease, Epoch: 1, Holder: "parent",
		Acquired: now, Expires: now.Add(time.Minute), Proc: procOf(os.Getppid())}); err != nil {
		t.Fatal(err)
	}
	l := lease{coll: coll, holder: "restarted", proc: proc.Self(), ttl: time.Minute}
	if ok, err := l.acquire(ctx, now.Add(time.Second)); ok || err != nil {
		t.Fatalf("acquire over a running holder: %v, %v; want false, nil", ok, err)
	}
	// The holder of epoch 2 has ended: taken at once, as epoch 3.
	if _, err := coll.InsertOne(ctx, leaseDoc{ID: leaseID(2), Kind: kindLease, Epoch: 2, Holder: "killed",
		Acquired: now, Expires: now.Add(time.Minute), Proc: procOf(endedPid(t))}); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.acquire(ctx, now.Add(time.Second)); !ok || err != nil {
		t.Fatalf("acquire over an ended holder: %v, %v; want true, nil", ok, err)
	}
	if l.epoch != 3 || l.goneHolder != "killed" {
		t.Errorf("epoch %d taken over %q, want 3 over \"killed\"", l.epoch, l.goneHolder)
	}
	top, err := l.newest(ctx)
	if err != nil || top.Holder != "restarted" || top.Proc != proc.Self() {
		t.Errorf("newest lease %+v (%v), want epoch 3 held by this process", top, err)
	}
}
