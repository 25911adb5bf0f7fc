package cli

import (
	"fmt"
	"os"
	"testing"
)

// TestAutoInstanceID takes slots of one group as three processes on one
// host would (a lock is per open file, so one process shows it too): each
// gets the lowest free slot, a released slot is taken again first, and
// another group has slots of its own.
func TestAutoInstanceID(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	group := "g/1 x" // characters a file name must not take
	take := func(g string) (string, func()) {
		t.Helper()
		id, release, err := autoInstanceID(g)
		if err != nil {
			t.Fatal(err)
		}
		return id, release
	}
	var rel []func()
	for i := range 3 {
		id, r := take(group)
		if want := fmt.Sprintf("%s-%d", host, i); id != want {
			t.Fatalf("slot %d: id %q, want %q", i, id, want)
		}
		rel = append(rel, r)
	}
	rel[1]() // the second process dies
	if id, r := take(group); id != host+"-1" {
		t.Fatalf("after slot 1 was freed: %q, want %s-1", id, host)
	} else {
		defer r()
	}
	if id, r := take("other"); id != host+"-0" {
		t.Fatalf("another group: %q, want %s-0", id, host)
	} else {
		defer r()
	}
	rel[0]()
	rel[2]()

	// The flags: auto, an explicit id, and none.
	for _, tc := range []struct {
		id   string
		opts int
	}{{instanceAuto, 2}, {"member-a", 2}, {"", 1}} {
		m := memberFlags{instanceID: tc.id, session: 10e9}
		opts, _, release, err := m.resolve("flags")
		if err != nil {
			t.Fatal(err)
		}
		release()
		if len(opts) != tc.opts {
			t.Errorf("--instance-id %q: %d options, want %d", tc.id, len(opts), tc.opts)
		}
	}
}
