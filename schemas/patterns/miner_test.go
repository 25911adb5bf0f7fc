package patterns

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// mine adds msgs to a fresh miner with opt.
func mine(opt Options, msgs ...string) *Miner {
	m := NewMiner(opt)
	for _, s := range msgs {
		m.AddString(s)
	}
	return m
}

// templates lists the miner's templates with their counts.
func templates(m *Miner) []string {
	var out []string
	for _, p := range m.Patterns() {
		out = append(out, fmt.Sprintf("%d %s", p.Count, p.Template))
	}
	return out
}

func TestMinerGrouping(t *testing.T) {
	tests := []struct {
		name string
		msgs []string
		want []string
	}{
		{
			name: "a numbered name shows while it is the only one",
			msgs: []string{"Accepted publickey for root from 1.2.3.4 via ssh2", "Accepted publickey for guest from 1.2.3.5 via ssh2", "Accepted publickey for admin from 1.2.3.6 via ssh2"},
			want: []string{"3 Accepted publickey for <*> from <*> via ssh2"},
		},
		{
			name: "a unit shows while it is the only one",
			msgs: []string{"query took 5 ms", "query took 17 ms"},
			want: []string{"2 query took <*> ms"},
		},
		{
			name: "a unit that changes is part of the variable",
			msgs: []string{"query took 5 ms", "query took 17 ms", "query took 2 s"},
			want: []string{"3 query took <*>"},
		},
		{
			name: "a numbered name that changes is a variable",
			msgs: []string{"link up on eth0: carrier ok", "link up on eth1: carrier ok", "link up on en0: carrier ok"},
			want: []string{"3 link up on <*>: carrier ok"},
		},
		{
			name: "a list of numbered names is one variable",
			msgs: []string{"cannot resolve an14 an15 an16 an100", "cannot resolve bn1"},
			want: []string{"2 cannot resolve <*>"},
		},
		{
			name: "values of one key are words",
			msgs: []string{"auth failure; rhost=1.2.3.4 user=root", "auth failure; rhost=1.2.3.5 user=guest", "auth failure; rhost=1.2.3.5 user=test"},
			want: []string{"3 auth failure; rhost=<*> user=<*>"},
		},
		{
			name: "numbers are variables",
			msgs: []string{"PacketResponder 1 for block blk_1 terminating", "PacketResponder 2 for block blk_-9 terminating"},
			want: []string{"2 PacketResponder <*> for block <*> terminating"},
		},
		{
			name: "a free word joins when the rest agrees",
			msgs: []string{"session closed for user root", "session closed for user alice", "session closed for user bob"},
			want: []string{"3 session closed for user <*>"},
		},
		{
			name: "capitalised words are kinds, not values",
			msgs: []string{"[instance: 1a] VM Started (Lifecycle Event)", "[instance: 2b] VM Paused (Lifecycle Event)", "task_1_0017 Task Transitioned from NEW to SCHEDULED", "task_2_0021 Task Transitioned from RUNNING to SCHEDULED"},
			want: []string{"1 <*> Task Transitioned from NEW to SCHEDULED", "1 <*> Task Transitioned from RUNNING to SCHEDULED", "1 [instance: <*>] VM Paused (Lifecycle Event)", "1 [instance: <*>] VM Started (Lifecycle Event)"},
		},
		{
			name: "two words in one place are an enumeration",
			msgs: []string{"Block rdd_1_2 stored as bytes in memory", "Block rdd_2_2 stored as values in memory", "Block rdd_3_2 stored as bytes in memory"},
			want: []string{"2 Block <*> stored as bytes in memory", "1 Block <*> stored as values in memory"},
		},
		{
			name: "a third word makes the place a variable for the whole family",
			msgs: []string{"Invalid user alice from 10.0.0.1", "Invalid user bob from 10.0.0.2", "Invalid user alice from 10.0.0.3", "Invalid user carol from 10.0.0.4"},
			want: []string{"4 Invalid user <*> from <*>"},
		},
		{
			name: "a pattern that becomes general absorbs those it covers",
			msgs: []string{"domain root_domain is no longer served by node-1", "domain usr_backup is no longer served by node-2", "domain root12_domain is no longer served by node-3", "domain root_domain is no longer served by node-4"},
			want: []string{"4 domain <*> is no longer served by node-<*>"},
		},
		{
			name: "numbered names of different names widen to a whole variable",
			msgs: []string{"restarted worker-1 after failure", "restarted writer-2 after failure"},
			want: []string{"2 restarted <*> after failure"},
		},
		{
			name: "lists of values in one token of different lengths are one place",
			msgs: []string{"ids 4|9 queued", "ids 4|9|12 queued", "ids 1|2|3|4 queued"},
			want: []string{"3 ids <*>|<*> queued"},
		},
		{
			name: "classes keep the package they share",
			msgs: []string{"handler org.example.jobs.EventType registered", "handler org.example.jobs.TaskHandler registered"},
			want: []string{"2 handler org.example.jobs.<*> registered"},
		},
		{
			name: "names keep the dotted part they share",
			msgs: []string{"com.acme.cache: flushed", "com.acme.Billing.Daily: flushed", "com.acme.mail.queue: flushed"},
			want: []string{"3 com.acme.<*>: flushed"},
		},
		{
			name: "file names as values become a variable at the third",
			msgs: []string{"parse error in file=app.yaml line=3", "parse error in file=db.yaml line=9", "parse error in file=web.toml line=1"},
			want: []string{"3 parse error in file=<*> line=<*>"},
		},
		{
			name: "values of keys seen variable do not split a message",
			msgs: []string{`acquire lock=1, tag="View Lock", name=android, ws=null, uid=1000`, `acquire lock=2, tag="AudioMix", name=com.android.phone, ws=WorkSource{10111}, uid=1001`},
			want: []string{`2 acquire lock=<*>, tag="<*>", name=<*>, ws=WorkSource{<*>}, uid=<*>`},
		},
		{
			name: "an empty value is another event",
			msgs: []string{"authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=", "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.1"},
			want: []string{"1 authentication failure; logname= uid=<*> euid=<*> tty=ssh ruser= rhost=", "1 authentication failure; logname= uid=<*> euid=<*> tty=ssh ruser= rhost=<*>"},
		},
		{
			name: "short messages keep their words",
			msgs: []string{"cupsd startup succeeded", "cupsd shutdown succeeded"},
			want: []string{"1 cupsd shutdown succeeded", "1 cupsd startup succeeded"},
		},
		{
			name: "the first word is the kind of message",
			msgs: []string{"syslogd startup succeeded ok now", "klogd startup succeeded ok now"},
			want: []string{"1 klogd startup succeeded ok now", "1 syslogd startup succeeded ok now"},
		},
		{
			name: "key=word values are kinds, key=number values variables",
			msgs: []string{"auth failure rhost=1.2.3.4 user=fztu", "auth failure rhost=5.6.7.8 user=guest", "auth failure rhost=9.9.9.9 user=fztu"},
			want: []string{"2 auth failure rhost=<*> user=fztu", "1 auth failure rhost=<*> user=guest"},
		},
		{
			name: "variables of any token count",
			msgs: []string{"x close, 0 bytes sent, lifetime 00:01", "y close, 4464 bytes (4.35 KB) sent, lifetime <1 sec"},
			want: []string{"1 x close, <*> bytes sent, lifetime <*>", "1 y close, <*> bytes sent, lifetime <*> sec"},
		},
		{
			name: "a quantity whose unit changes hides the units of its dimension elsewhere in the pattern",
			msgs: []string{"stored (estimated size 417.0 B, free 413.9 KB) in 3 ms", "stored (estimated size 1.2 KB, free 412.7 KB) in 4 ms", "stored (estimated size 2.0 KB, free 410.7 KB) in 2 ms"},
			want: []string{"3 stored (estimated size <*>, free <*>) in <*> ms"},
		},
		{
			name: "quantities whose units never change show them",
			msgs: []string{"Total memory: 64172 MB, used: 512.00 MB", "Total memory: 64172 MB, used: 2560.00 MB"},
			want: []string{"2 Total memory: <*> MB, used: <*> MB"},
		},
		{
			name: "two words changing at once is another message",
			msgs: []string{"ddr error(s) detected and corrected on rank 0, symbol 24 over 335 seconds", "ddr errors(s) detected and corrected on rank 0, symbol 10, bit 0"},
			want: []string{"1 ddr error(s) detected and corrected on rank <*>, symbol <*> over <*> seconds", "1 ddr errors(s) detected and corrected on rank <*>, symbol <*>, bit <*>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := templates(mine(Options{}, tt.msgs...)); !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}

// stream is a small mixed log used by the property tests.
func stream() []string {
	var s []string
	for i := 0; i < 300; i++ {
		s = append(s,
			fmt.Sprintf("Received block blk_%d of size %d from /10.0.0.%d", i*7919, 1000+i, i%250),
			fmt.Sprintf("session opened for user u%c%c by (uid=%d)", 'a'+i%26, 'a'+i%7, i),
			fmt.Sprintf("Invalid user %s from 10.1.%d.%d port %d", []string{"admin", "test", "oracle", "guest"}[i%4], i%200, i%100, 40000+i),
		)
		if i%50 == 0 {
			s = append(s, fmt.Sprintf("kernel panic at 0x%x", i))
		}
	}
	return s
}

func TestMinerDeterministic(t *testing.T) {
	a, b := mine(Options{}, stream()...), mine(Options{}, stream()...)
	if !slices.Equal(a.Patterns(), b.Patterns()) {
		t.Fatalf("same input, different patterns:\n%v\n%v", templates(a), templates(b))
	}
	ba, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	if !bytes.Equal(ba, bb) {
		t.Error("same input, different encodings")
	}
}

func TestIDIsTemplateHash(t *testing.T) {
	m := mine(Options{}, stream()...)
	for _, p := range m.Patterns() {
		if p.ID != TemplateID(p.Template) {
			t.Errorf("pattern %q has ID %v, want TemplateID %v", p.Template, p.ID, TemplateID(p.Template))
		}
		if len(p.ID.String()) != 16 {
			t.Errorf("ID %q is not 16 hex digits", p.ID)
		}
	}
	// Another miner that sees the lines in another order, in two halves,
	// agrees on the IDs: that is what lets speed and batch agree.
	s := stream()
	slices.Reverse(s)
	other := mine(Options{}, s...)
	ids := func(m *Miner) []ID {
		var out []ID
		for _, p := range m.Patterns() {
			out = append(out, p.ID)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(ids(m), ids(other)) {
		t.Errorf("reversed input gives other IDs:\n%v\n%v", templates(m), templates(other))
	}
}

func TestMatchAfterMining(t *testing.T) {
	m := mine(Options{}, stream()...)
	for _, s := range stream() {
		p, ok := m.Match([]byte(s))
		if !ok {
			t.Fatalf("Match(%q): no pattern", s)
		}
		if q, _ := m.Pattern(p.ID); q.Template != p.Template {
			t.Fatalf("Match(%q) = %q, Pattern(%v) = %q", s, p.Template, p.ID, q.Template)
		}
	}
	if _, ok := m.Match([]byte("never seen before at all")); ok {
		t.Error("Match of an unseen message found a pattern")
	}
}

func TestMergeEqualsOneMiner(t *testing.T) {
	s := stream()
	whole := mine(Options{}, s...)
	// Two partitions: even and odd lines.
	var even, odd []string
	for i, l := range s {
		if i%2 == 0 {
			even = append(even, l)
		} else {
			odd = append(odd, l)
		}
	}
	a, b := mine(Options{}, even...), mine(Options{}, odd...)
	ab := mine(Options{})
	ab.Merge(a)
	ab.Merge(b)
	ba := mine(Options{})
	ba.Merge(b)
	ba.Merge(a)
	for name, got := range map[string]*Miner{"a+b": ab, "b+a": ba} {
		if !slices.Equal(templates(got), templates(whole)) {
			t.Errorf("%s merged:\n  %q\none miner:\n  %q", name, templates(got), templates(whole))
		}
	}
	// Merge does not change its argument.
	if before := templates(mine(Options{}, even...)); !slices.Equal(templates(a), before) {
		t.Error("Merge changed its argument")
	}
}

func TestMergeSameIDAddsCounts(t *testing.T) {
	a := mine(Options{}, "disk 1 full", "disk 2 full")
	b := mine(Options{}, "disk 3 full", "fan stopped")
	a.Merge(b)
	want := []string{"3 disk <*> full", "1 fan stopped"}
	if got := templates(a); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	m := mine(Options{}, stream()...)
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := NewMiner(Options{})
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	if !slices.Equal(back.Patterns(), m.Patterns()) {
		t.Errorf("round trip changed the patterns:\n%q\n%q", templates(back), templates(m))
	}
	// A decoded miner keeps mining into the same patterns.
	before := back.Len()
	for _, s := range stream() {
		back.AddString(s)
	}
	if back.Len() != before {
		t.Errorf("re-adding the stream to the decoded miner made %d patterns from %d", back.Len(), before)
	}
	t.Logf("%d patterns of %d messages in %d bytes", m.Len(), len(stream()), len(data))
}

func TestUnmarshalCorrupt(t *testing.T) {
	good, _ := mine(Options{}, stream()...).MarshalBinary()
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", []byte("XXXX\x01\x00")},
		{"truncated", good[:len(good)/2]},
		{"trailing bytes", append(bytes.Clone(good), 0)},
		{"huge count", []byte(codecMagic + "\xff\xff\xff\xff\x0f")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := mine(Options{}, "kept 1")
			err := m.UnmarshalBinary(tt.data)
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("UnmarshalBinary = %v, want a corrupt-pattern-set error", err)
			}
			if m.Len() != 1 {
				t.Error("a failed UnmarshalBinary changed the miner")
			}
		})
	}
}

func TestEviction(t *testing.T) {
	m := NewMiner(Options{MaxPatterns: 10})
	for i := 0; i < 100; i++ {
		m.AddString("frequent event 1")
	}
	for i := 0; i < 50; i++ {
		m.AddString(fmt.Sprintf("Rare%c%c kind of message", 'a'+i%26, 'a'+i/26))
	}
	if m.Len() > 10 {
		t.Errorf("%d patterns held, cap is 10", m.Len())
	}
	if m.Evicted() == 0 {
		t.Error("nothing evicted")
	}
	if p, ok := m.Match([]byte("frequent event 2")); !ok || p.Count != 100 {
		t.Errorf("frequent pattern lost to eviction: %+v %v", p, ok)
	}
	// The newest pattern survives: eviction drops the least recent.
	if _, ok := m.Match([]byte("Rarexb kind of message")); !ok {
		t.Error("newest pattern evicted")
	}
}

func TestKeyCacheBounded(t *testing.T) {
	m := NewMiner(Options{MaxPatterns: 2})
	for i := 0; i < 1000; i++ {
		m.AddString(fmt.Sprintf("user %c%c%c logged in from the console", 'a'+i%26, 'a'+i/26%26, 'a'+i/676))
	}
	if len(m.keys) > keysPerPattern*2 {
		t.Errorf("key cache holds %d keys, bound %d", len(m.keys), keysPerPattern*2)
	}
	if ps := m.Patterns(); len(ps) != 1 || ps[0].Count != 1000 {
		t.Errorf("got %q, want one pattern of 1000", templates(m))
	}
}
