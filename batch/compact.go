package batch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// flushRows bounds the rows a compaction holds in memory: past it, every
// open (partition, hour) buffer is written out as a file. The files of a
// run enter the manifest together at the end, so flushing early changes
// file sizes (merged later), never correctness.
const flushRows = 256 * 1024

// idleTimeout is how long compaction waits for records it knows exist
// (below the high watermark taken at start) before giving up with an
// error, rather than hanging on a broker that stopped answering.
const idleTimeout = 30 * time.Second

// CompactSummary reports what a compaction did.
type CompactSummary struct {
	// Records read from Kafka; Rows written to the lake (equal: nothing is
	// dropped), of which ParseErrors did not parse (raw kept).
	Records     int64 `json:"records"`
	Rows        int64 `json:"rows"`
	ParseErrors int64 `json:"parse_errors"`
	// FilesWritten new files; FilesMerged small files merged into
	// MergedFiles files.
	FilesWritten int `json:"files_written"`
	FilesMerged  int `json:"files_merged"`
	MergedFiles  int `json:"merged_files"`
	// OrphansRemoved files of crashed runs deleted at the start.
	OrphansRemoved int `json:"orphans_removed"`
	// LostOffsets records deleted by Kafka retention before compaction
	// read them (they never reached the lake).
	LostOffsets int64 `json:"lost_offsets,omitempty"`
	// DirtyHours already recomputed hours that received rows.
	DirtyHours int     `json:"dirty_hours"`
	Seconds    float64 `json:"seconds"`
}

// Compact moves the records of the topic that are not in the lake yet
// into it, then merges small files of finished hours. See the package doc.
func (b *Batch) Compact(ctx context.Context) (CompactSummary, error) {
	return locked(ctx, b.lake, b.compact)
}

// markQuiet sets Quiet on every partition, read to its end by the run
// started at runAt, whose newest record was written at least grace before
// it, and reports whether any changed. A run that reads nothing saves the
// manifest only then, so running twice in a row still changes nothing
// unless the clock has made a producer quiet in between.
func markQuiet(m *lake.Manifest, runAt time.Time, grace time.Duration) bool {
	changed := false
	for _, ps := range m.Partitions {
		if ps.Quiet.IsZero() && !ps.LastAppend.IsZero() && !runAt.Before(ps.LastAppend.Add(grace)) {
			ps.Quiet = runAt
			changed = true
		}
	}
	return changed
}

// readRange is the offsets of one partition a run reads: [from, to).
type readRange struct{ from, to int64 }

func (b *Batch) compact(ctx context.Context) (CompactSummary, error) {
	start := time.Now()
	runAt := b.cfg.now()
	var sum CompactSummary
	m, err := b.lake.LoadManifest()
	if err != nil {
		return sum, err
	}
	removed, err := b.lake.RemoveOrphans(m)
	sum.OrphansRemoved = len(removed)
	if err != nil {
		return sum, err
	}
	if len(removed) > 0 {
		b.cfg.Logger.Info("removed orphan files of an earlier run", "files", removed)
	}

	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.brokers...)}, b.cfg.KafkaOpts...)...)
	if err != nil {
		return sum, fmt.Errorf("compact: kafka client: %w", err)
	}
	ranges, err := b.ranges(ctx, kadm.NewClient(cl), m, &sum)
	cl.Close()
	if err != nil {
		return sum, err
	}

	next := m.Clone()
	if len(ranges) > 0 {
		if err := b.saveFirstManifest(m); err != nil {
			return sum, err
		}
		files, err := b.read(ctx, ranges, next, &sum)
		if err != nil {
			return sum, err
		}
		if b.cfg.afterFiles != nil {
			if err := b.cfg.afterFiles(); err != nil {
				return sum, err
			}
		}
		before := dirtyHours(next)
		next.AddFiles(files...)
		sum.DirtyHours = dirtyHours(next) - before
		sum.FilesWritten = len(files)
		for p, r := range ranges {
			next.Partition(p).NextOffset = r.to
		}
		markQuiet(next, runAt, b.cfg.grace)
		if err := b.lake.SaveManifest(next); err != nil {
			return sum, fmt.Errorf("compact: %w", err)
		}
	} else if markQuiet(next, runAt, b.cfg.grace) || sum.LostOffsets > 0 {
		if err := b.lake.SaveManifest(next); err != nil {
			return sum, fmt.Errorf("compact: %w", err)
		}
	}

	if err := b.mergeFinished(ctx, next, &sum); err != nil {
		return sum, err
	}
	if err := b.writeLakeDoc(ctx, next); err != nil {
		return sum, err
	}
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}

// ranges lists what to read per partition: from the manifest's next
// offset to the high watermark now. Offsets Kafka already deleted are
// skipped and counted as lost in m.
func (b *Batch) ranges(ctx context.Context, adm *kadm.Client, m *lake.Manifest, sum *CompactSummary) (map[int32]readRange, error) {
	topic := b.cfg.Topic
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("compact: list end offsets of %s: %w", topic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("compact: list start offsets of %s: %w", topic, err)
	}
	if len(ends[topic]) == 0 {
		return nil, fmt.Errorf("compact: topic %q has no partitions (does it exist?)", topic)
	}
	out := map[int32]readRange{}
	for p, end := range ends[topic] {
		from := int64(0)
		if ps, ok := m.Partitions[p]; ok {
			from = ps.NextOffset
		}
		if st, ok := starts.Lookup(topic, p); ok && from < st.Offset {
			lost := st.Offset - from
			b.cfg.Logger.Warn("records deleted by Kafka before compaction read them", "partition", p, "offsets", fmt.Sprintf("%d-%d", from, st.Offset-1))
			m.Partition(p).LostOffsets += lost
			sum.LostOffsets += lost
			from = st.Offset
			m.Partition(p).NextOffset = from
		}
		if from < end.Offset {
			out[p] = readRange{from: from, to: end.Offset}
		}
	}
	return out, nil
}

// pending is the buffered rows of one (partition, hour) not yet written.
type pending struct {
	hour        time.Time
	partition   int32
	rb          *event.RecordBuilder
	first, last int64
	parseErrors int64
}

// reader turns the records of one run into lake files.
type reader struct {
	b     *Batch
	m     *lake.Manifest
	dec   *ingest.Decoder
	open  map[int32]map[time.Time]*pending
	rows  int
	files []lake.File
	sum   *CompactSummary
}

// read consumes the ranges and returns the files written; it updates the
// partitions' max event time in m.
func (b *Batch) read(ctx context.Context, ranges map[int32]readRange, m *lake.Manifest, sum *CompactSummary) (_ []lake.File, err error) {
	offsets := map[int32]kgo.Offset{}
	var total int64
	for p, r := range ranges {
		offsets[p] = kgo.NewOffset().At(r.from)
		total += r.to - r.from
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(b.brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{b.cfg.Topic: offsets}),
		// Control records (transaction markers) take offsets too; keeping
		// them lets a partition's end be recognised by offset alone.
		kgo.KeepControlRecords(),
	}, b.cfg.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("compact: kafka client: %w", err)
	}
	defer cl.Close()

	bar := b.newProgress(total, "compact")
	defer bar.finish()
	r := &reader{b: b, m: m, dec: b.rules.NewDecoder(),
		open: map[int32]map[time.Time]*pending{}, sum: sum}
	defer r.release()

	left := len(ranges)
	done := map[int32]bool{}
	for left > 0 {
		pctx, cancel := context.WithTimeout(ctx, idleTimeout)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("compact: %w", err)
		}
		if fs.IsClientClosed() {
			return nil, errors.New("compact: kafka client closed")
		}
		var ferr error
		fs.EachError(func(t string, p int32, e error) {
			if errors.Is(e, context.DeadlineExceeded) {
				e = fmt.Errorf("no records for %s while offsets below the high watermark remain", idleTimeout)
			}
			if ferr == nil {
				ferr = fmt.Errorf("compact: fetch %s partition %d: %w", t, p, e)
			}
		})
		if ferr != nil {
			return nil, fmt.Errorf("%w (still to read: %s)", ferr, remaining(ranges, done))
		}
		var perr error
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			rg := ranges[fp.Partition]
			for _, rec := range fp.Records {
				if perr != nil || done[fp.Partition] || rec.Offset >= rg.to {
					continue
				}
				if !rec.Attrs.IsControl() {
					r.add(rec)
				}
				bar.add(1)
				if rec.Offset >= rg.to-1 {
					done[fp.Partition] = true
					left--
					cl.PauseFetchPartitions(map[string][]int32{b.cfg.Topic: {fp.Partition}})
				}
			}
		})
		if perr != nil {
			return nil, perr
		}
		if r.rows >= flushRows {
			if err := r.flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := r.flush(); err != nil {
		return nil, err
	}
	return r.files, nil
}

// remaining describes the partitions not finished, for errors.
func remaining(ranges map[int32]readRange, done map[int32]bool) string {
	var ps []int32
	for p := range ranges {
		if !done[p] {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	s := ""
	for _, p := range ps {
		s += fmt.Sprintf(" p%d<%d", p, ranges[p].to)
	}
	return s
}

// add parses one record into its (partition, hour) buffer.
func (r *reader) add(rec *kgo.Record) {
	var ev event.Event
	r.dec.Decode(&ev, rec)
	r.sum.Records++
	if ev.ParseError != "" {
		r.sum.ParseErrors++
	}
	ps := r.m.Partition(rec.Partition)
	if !ev.TimeMissing && ev.Time.After(ps.MaxEventTime) {
		ps.MaxEventTime = ev.Time
	}
	if rec.Timestamp.After(ps.LastAppend) {
		ps.LastAppend = rec.Timestamp
	}
	ps.Quiet = time.Time{}
	hour := lake.Hour(ev.Time)
	byHour := r.open[rec.Partition]
	if byHour == nil {
		byHour = map[time.Time]*pending{}
		r.open[rec.Partition] = byHour
	}
	pd := byHour[hour]
	if pd == nil {
		pd = &pending{hour: hour, partition: rec.Partition, rb: event.NewRecordBuilder(nil), first: rec.Offset}
		byHour[hour] = pd
	}
	pd.rb.Append(&ev)
	pd.last = rec.Offset
	if ev.ParseError != "" {
		pd.parseErrors++
	}
	r.rows++
}

// flush writes every open buffer as a lake file.
func (r *reader) flush() error {
	for p, byHour := range r.open {
		for h, pd := range byHour {
			f, err := r.write(pd)
			pd.rb.Release()
			delete(byHour, h)
			if err != nil {
				return err
			}
			r.files = append(r.files, f)
			r.sum.Rows += f.Rows
		}
		delete(r.open, p)
	}
	r.rows = 0
	return nil
}

func (r *reader) write(pd *pending) (lake.File, error) {
	rec := pd.rb.NewRecordBatch()
	defer rec.Release()
	rel := lake.FilePath(pd.hour, pd.partition, pd.first, pd.last)
	size, err := r.b.lake.WriteFile(rel, rec)
	if err != nil {
		return lake.File{}, fmt.Errorf("compact partition %d offsets %d-%d: %w", pd.partition, pd.first, pd.last, err)
	}
	return lake.File{Path: rel, Partition: pd.partition, FirstOffset: pd.first, LastOffset: pd.last,
		Rows: rec.NumRows(), ParseErrors: pd.parseErrors, Bytes: size, Hour: pd.hour}, nil
}

// release frees buffers left by an error.
func (r *reader) release() {
	for _, byHour := range r.open {
		for _, pd := range byHour {
			pd.rb.Release()
		}
	}
}

func dirtyHours(m *lake.Manifest) int {
	n := 0
	for _, hs := range m.Hours {
		if hs.Dirty {
			n++
		}
	}
	return n
}
