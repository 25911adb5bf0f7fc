package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/loglambda/loglambda/speed"
)

// instanceAuto is --instance-id's default: an id made from the host name
// and a slot number (see memberFlags.resolve).
const instanceAuto = "auto"

// maxSlots bounds the speed members of one group on one host.
const maxSlots = 256

// memberFlags are how a speed layer (speed's or up's) is a member of its
// consumer group: --instance-id (static membership) and --session-timeout.
type memberFlags struct {
	instanceID string
	session    time.Duration
}

// register adds --instance-id and --session-timeout.
func (m *memberFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.instanceID, "instance-id", instanceAuto,
		"static group membership: a speed process restarted with the same id within --session-timeout takes its partitions back at once, the others keep theirs. "+
			`"auto": HOST-N, N the lowest slot no running speed process of the group holds on this host (a lock file in the temp directory), so a restarted process takes the id of the one that died; empty: dynamic membership (every restart rebalances)`)
	fs.DurationVar(&m.session, "session-timeout", speed.DefaultSessionTimeout,
		"how long the group waits for a silent member (killed, stopped) before its partitions go to the others")
}

// resolve returns the speed options for the membership flags and the
// instance id ("" for a dynamic member), taking a slot of the group on
// this host for "auto"; release frees the slot (it is
// freed anyway when the process dies: the lock is the kernel's). A config
// built in code (zero flags) is a dynamic member with speed's defaults.
func (m *memberFlags) resolve(group string) (opts []speed.Opt, id string, release func(), err error) {
	release = func() {}
	id = m.instanceID
	if id == instanceAuto {
		if id, release, err = autoInstanceID(group); err != nil {
			return nil, "", nil, fmt.Errorf("--instance-id auto: %w", err)
		}
	}
	if m.session != 0 { // 0: a config built in code, speed's default
		opts = append(opts, speed.SessionTimeout(m.session))
	}
	if id != "" {
		opts = append(opts, speed.InstanceID(id))
	}
	return opts, id, release, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// autoInstanceID takes the lowest free slot of group on this host, a lock
// file held with flock(2) for the life of the process, and returns
// HOST-SLOT. The kernel drops the lock when the process dies, however it
// dies, so the next speed process started on the host takes the same id
// and, within the session timeout, the dead one's partitions.
func autoInstanceID(group string) (string, func(), error) {
	host, err := os.Hostname()
	if err != nil {
		return "", nil, fmt.Errorf("host name: %w", err)
	}
	dir := os.TempDir()
	for slot := range maxSlots {
		path := filepath.Join(dir, "loglambda-speed-"+unsafeName.ReplaceAllString(group, "_")+"-"+strconv.Itoa(slot)+".lock")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return "", nil, fmt.Errorf("slot file %s: %w", path, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				continue
			}
			return "", nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return host + "-" + strconv.Itoa(slot), func() { f.Close() }, nil
	}
	return "", nil, fmt.Errorf("all %d slots of group %q on this host are taken (lock files in %s)", maxSlots, group, dir)
}
