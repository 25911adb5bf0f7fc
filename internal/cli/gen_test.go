package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
)

// genLines is what the generator itself produces for these options.
func genLines(t *testing.T, opts ...gen.Opt) []gen.Record {
	t.Helper()
	g, err := gen.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	var out []gen.Record
	for !g.Done() {
		out = append(out, g.Next())
	}
	return out
}

var genStart = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func TestGenStdout(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		opts []gen.Opt
	}{
		{
			name: "flags",
			args: []string{"--stdout", "--count", "500", "--seed", "4", "--start", "2026-11-20T10:00:00Z", "--rate", "50"},
			opts: []gen.Opt{gen.Seed(4), gen.Count(500), gen.Start(genStart), gen.Rate(50), gen.Late(0)},
		},
		{
			name: "late events asked for",
			args: []string{"--stdout", "--count", "2000", "--seed", "6", "--start", "2026-11-20T10:00:00Z", "--late", "0.01"},
			opts: []gen.Opt{gen.Seed(6), gen.Count(2000), gen.Start(genStart), gen.Late(0.01)},
		},
		{
			name: "environment",
			args: []string{"--stdout", "--start", "2026-11-20T10:00:00Z"},
			env:  map[string]string{"LOGLAMBDA_COUNT": "300", "LOGLAMBDA_SEED": "5", "LOGLAMBDA_OUT_OF_ORDER": "0", "LOGLAMBDA_LATE": "0"},
			opts: []gen.Opt{gen.Seed(5), gen.Count(300), gen.Start(genStart), gen.OutOfOrder(0), gen.Late(0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			if err := runGen(context.Background(), tt.args, &out); err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			for _, r := range genLines(t, tt.opts...) {
				want.Write(r.Line)
				want.WriteByte('\n')
			}
			if !bytes.Equal(out.Bytes(), want.Bytes()) {
				t.Fatalf("gen --stdout wrote %d bytes (%d lines), want %d bytes (%d lines)",
					out.Len(), bytes.Count(out.Bytes(), []byte("\n")), want.Len(), bytes.Count(want.Bytes(), []byte("\n")))
			}
		})
	}
}

func TestGenKafka(t *testing.T) {
	k, err := embedded.StartKafka(embedded.KafkaConfig{Listen: "127.0.0.1:0", Topic: "logs", Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	const n = 3000
	args := []string{"--brokers", strings.Join(k.Addrs(), ","), "--count", "3000", "--seed", "9",
		"--start", "2026-11-20T10:00:00Z", "--rate", "1000"}
	if err := runGen(context.Background(), args, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}

	// Every generated line arrives once, keyed by its record key, and one
	// key's records keep their order (they share a partition).
	want := genLines(t, gen.Seed(9), gen.Count(n), gen.Start(genStart), gen.Rate(1000), gen.Late(0))
	wantByKey := map[string][]string{}
	for _, r := range want {
		wantByKey[string(r.Key)] = append(wantByKey[string(r.Key)], string(r.Line))
	}
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.ConsumeTopics("logs"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx := testkit.Context(t, 30*time.Second)
	gotByKey := map[string][]string{}
	partOfKey := map[string]int32{}
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after %d records: %v", got, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			key := string(r.Key)
			if p, ok := partOfKey[key]; ok && p != r.Partition {
				t.Errorf("key %q in partitions %d and %d", key, p, r.Partition)
			}
			partOfKey[key] = r.Partition
			if len(r.Headers) != 1 || r.Headers[0].Key != "format" || string(r.Headers[0].Value) != "json" {
				t.Errorf("record headers %v, want format: json", r.Headers)
			}
			gotByKey[key] = append(gotByKey[key], string(r.Value))
		})
	}
	if got != n {
		t.Fatalf("consumed %d records, want %d", got, n)
	}
	for key, lines := range wantByKey {
		g := gotByKey[key]
		if len(g) != len(lines) {
			t.Fatalf("key %q: %d records, want %d", key, len(g), len(lines))
		}
		for i := range lines {
			if g[i] != lines[i] {
				t.Fatalf("key %q record %d:\n got %s\nwant %s", key, i, g[i], lines[i])
			}
		}
	}
	parts := map[int32]bool{}
	for _, p := range partOfKey {
		parts[p] = true
	}
	if len(parts) != 4 {
		t.Errorf("records landed in %d partitions, want all 4", len(parts))
	}
}

// recordingSink notes when each record was handed over.
type recordingSink struct {
	at   []time.Time
	recs []gen.Record
}

func (s *recordingSink) put(_ context.Context, r gen.Record) error {
	s.at = append(s.at, time.Now())
	s.recs = append(s.recs, r)
	return nil
}
func (s *recordingSink) flush(context.Context) error { return nil }
func (s *recordingSink) close()                      {}

func TestFeedPacesLiveEvents(t *testing.T) {
	const rate = 200
	now := time.Now()
	// Half a second of history, then half a second live.
	g, err := gen.New(gen.Rate(rate), gen.Start(now.Add(-500*time.Millisecond)), gen.Count(rate),
		gen.OutOfOrder(0), gen.Late(0))
	if err != nil {
		t.Fatal(err)
	}
	var s recordingSink
	st, err := feed(context.Background(), g, &s, feedOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != rate || len(s.recs) != rate {
		t.Fatalf("fed %d events (stats %d), want %d", len(s.recs), st.Events, rate)
	}
	for i, r := range s.recs {
		// An event may leave at most one spacing (its jitter) before its time.
		if early := r.Time.Sub(s.at[i]); early > time.Second/rate {
			t.Fatalf("event %d with time %v sent %v early", i, r.Time, early)
		}
	}
}

func TestFeedStopsOnCancel(t *testing.T) {
	g, err := gen.New(gen.Start(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testkit.Context(t, 300*time.Millisecond)
	var s recordingSink
	if _, err := feed(ctx, g, &s, feedOpts{}); err != nil {
		t.Fatalf("feed stopped by its context: %v, want nil", err)
	}
	if len(s.recs) == 0 {
		t.Fatal("no live events in 300ms at 200/s")
	}
}
