package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// Compaction streams: each (partition, hour) met is an open lake file
// (lake.Stream) fed a row at a time, its Parquet row group buffered as
// encoded pages, so what a run holds does not grow with what it reads. A file is committed when its partition's event time has
// passed the hour's end by closeAfter (late records of the hour still
// join it), when its worker holds maxOpen files, or at the end of the
// run. The files of a run enter the manifest together at the end, so
// where a file is cut changes file sizes (merged later), never
// correctness.
const (
	closeAfter = time.Hour
	maxOpen    = 16
	// fetchMaxBytes bounds one fetch of the compaction's Kafka client.
	// It counts the broker's batches as stored, compressed: the demo's
	// lines come back about 3.3 times larger (67 B an event in Kafka,
	// 218 B a line), and kgo holds the next fetch decompressed while the
	// workers hold up to workerQueue of the previous ones each, and the
	// records of the chunks their writers have not written yet (at most
	// parsedQueue+2 chunks of chunkSize records, usually within one or
	// two fetched slices).
	fetchMaxBytes = 4 << 20
	// workerQueue is how many fetched record slices wait for a worker.
	workerQueue = 2
)

// idleTimeout is how long compaction waits for records it knows exist
// (below the high watermark taken at start). A run that read records
// before such a wait ends there and keeps them (the next run reads on
// from there); one that read none fails, rather than hanging on a broker
// that stopped answering. up's embedded broker serves every client from
// one goroutine: under the first compaction of a 24 h backfill on a
// saturated machine it answered no fetch for 30 s twice, and each failed
// run threw away minutes of files.
const idleTimeout = 30 * time.Second

// stalled is what fetch returns when the broker gave no records for the
// idle timeout after some were read: the run ends with what it read.
var errStalled = errors.New("no records within the idle timeout")

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
	m, err := b.lake.LoadManifest(ctx)
	if err != nil {
		return sum, err
	}
	removed, err := b.lake.RemoveOrphans(ctx, m)
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
		if err := b.saveFirstManifest(ctx, m); err != nil {
			return sum, err
		}
		files, err := b.read(ctx, ranges, next, &sum)
		if err != nil {
			return sum, err
		}
		// A stalled run read less than its ranges (read shortened them).
		for p, r := range ranges {
			if r.to == r.from {
				delete(ranges, p)
			}
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
		if err := b.lake.SaveManifest(ctx, next); err != nil {
			return sum, fmt.Errorf("compact: %w", err)
		}
	} else if markQuiet(next, runAt, b.cfg.grace) || sum.LostOffsets > 0 {
		if err := b.lake.SaveManifest(ctx, next); err != nil {
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

// read consumes the ranges and returns the files written; it updates the
// partitions' max event time in m. A pipeline: one goroutine fetches; the
// partitions are dealt to workers (one per core, at most one per
// partition), each a parse goroutine and a write goroutine joined by a
// bounded queue of parsed chunks (shard), so both cores parse and encode
// while the fetch goes on, even for one partition. The first error of any
// stage cancels the others, which drain their queues and end.
func (b *Batch) read(ctx context.Context, ranges map[int32]readRange, m *lake.Manifest, sum *CompactSummary) (_ []lake.File, err error) {
	offsets := map[int32]kgo.Offset{}
	var total int64
	parts := make([]int32, 0, len(ranges))
	for p, r := range ranges {
		offsets[p] = kgo.NewOffset().At(r.from)
		total += r.to - r.from
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(b.brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{b.cfg.Topic: offsets}),
		// Control records (transaction markers) take offsets too; keeping
		// them lets a partition's end be recognised by offset alone.
		kgo.KeepControlRecords(),
		// What is fetched ahead of the workers is held decompressed:
		// a few MiB keep both cores busy, kgo's 50 MiB default only
		// holds memory.
		kgo.FetchMaxBytes(fetchMaxBytes),
		kgo.FetchMaxPartitionBytes(fetchMaxBytes / 4),
		// The batches' memory is reused once their records are written.
		kgo.WithPools(newFetchPool()),
	}, b.cfg.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("compact: kafka client: %w", err)
	}
	defer cl.Close()

	bar := b.newProgress(total, "compact")
	defer bar.finish()

	// Workers: partition p goes to worker of[p]. Every partition's state
	// exists in m before they start, so each worker writes only its own.
	n := min(runtime.GOMAXPROCS(0), len(parts))
	workers := make([]*shard, n)
	of := map[int32]*shard{}
	for i := range workers {
		workers[i] = newShard(ctx, b, m)
	}
	for i, p := range parts {
		m.Partition(p)
		of[p] = workers[i%n]
	}
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(wctx, cancel); err != nil {
				cancel(err)
			}
		}()
	}
	reached, ferr := b.fetch(wctx, cl, ranges, of, bar)
	if errors.Is(ferr, errStalled) {
		// Keep what was read: every record below reached[p] went to its
		// worker, which commits its open files below.
		var short []string
		for p, r := range ranges {
			if reached[p] < r.to {
				short = append(short, fmt.Sprintf("p%d %d<%d", p, reached[p], r.to))
			}
			ranges[p] = readRange{from: r.from, to: reached[p]}
		}
		sort.Strings(short)
		b.cfg.Logger.Warn("compaction ends early: the broker sent no records for the idle timeout; the next run reads on", "idle", b.cfg.idle, "read_to", short)
		ferr = nil
	}
	for _, w := range workers {
		close(w.in)
	}
	wg.Wait()
	if ferr == nil {
		ferr = context.Cause(wctx) // a worker's error, or ctx's
	}
	var files []lake.File
	for _, w := range workers {
		if ferr != nil {
			w.abort()
			continue
		}
		files = append(files, w.files...)
		sum.Records += w.sum.Records
		sum.ParseErrors += w.sum.ParseErrors
		sum.Rows += w.sum.Rows
	}
	if ferr != nil {
		// Files already committed are orphans now: the manifest never
		// names them, and the next run's sweep removes them.
		return nil, ferr
	}
	return files, nil
}

// fetch reads every range to its end and hands each partition's records
// to its worker, in offset order. It returns, per partition, the offset
// below which every record went to the worker: the range's end unless the
// error is errStalled (the broker sent nothing for the idle timeout after
// some records came).
func (b *Batch) fetch(ctx context.Context, cl *kgo.Client, ranges map[int32]readRange, of map[int32]*shard, bar *progress) (map[int32]int64, error) {
	left := len(ranges)
	done := map[int32]bool{}
	reached := map[int32]int64{}
	for p, r := range ranges {
		reached[p] = r.from
	}
	progressed := false
	for left > 0 {
		pctx, cancel := context.WithTimeout(ctx, b.cfg.idle)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
				return reached, c
			}
			return reached, fmt.Errorf("compact: %w", err)
		}
		if fs.IsClientClosed() {
			return reached, errors.New("compact: kafka client closed")
		}
		var ferr error
		idle := false
		fs.EachError(func(t string, p int32, e error) {
			if errors.Is(e, context.DeadlineExceeded) {
				idle = true
				e = fmt.Errorf("no records for %s while offsets below the high watermark remain", b.cfg.idle)
			}
			if ferr == nil {
				ferr = fmt.Errorf("compact: fetch %s partition %d: %w", t, p, e)
			}
		})
		if ferr != nil && idle && progressed {
			return reached, errStalled
		}
		if ferr != nil {
			return reached, fmt.Errorf("%w (still to read: %s)", ferr, remaining(ranges, done))
		}
		var serr error
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			if serr != nil || done[fp.Partition] {
				recycle(fp.Records)
				return
			}
			rg := ranges[fp.Partition]
			recs := make([]*kgo.Record, 0, len(fp.Records))
			read := 0
			for _, rec := range fp.Records {
				if rec.Offset >= rg.to {
					break
				}
				read++
				reached[fp.Partition] = rec.Offset + 1
				last := rec.Offset >= rg.to-1
				if !rec.Attrs.IsControl() {
					recs = append(recs, rec)
				} else {
					rec.Recycle()
				}
				if last {
					done[fp.Partition] = true
					left--
					cl.PauseFetchPartitions(map[string][]int32{b.cfg.Topic: {fp.Partition}})
					break
				}
			}
			recycle(fp.Records[read:])
			bar.add(read)
			if read > 0 {
				progressed = true
			}
			if len(recs) == 0 {
				return
			}
			select {
			case of[fp.Partition].in <- recs:
			case <-ctx.Done():
				serr = context.Cause(ctx)
			}
		})
		if serr != nil {
			return reached, serr
		}
	}
	return reached, nil
}

// recycle gives the memory of records not handed to a worker back to the
// client's pool (fetchPool).
func recycle(recs []*kgo.Record) {
	for _, r := range recs {
		r.Recycle()
	}
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

// shard is one compaction worker for its partitions: a parse goroutine
// (run) decodes their records into chunks of events, and a write
// goroutine (write) streams the chunks into lake files, one open file per
// (partition, hour), so one partition's parse and Parquet encoding run on
// both cores (a topic of fewer partitions than cores, or partitions of
// unequal traffic, kept a core idle when a worker did both). Chunks keep
// each partition's offset order; at most parsedQueue of them wait for
// the writer and one more is in each goroutine's hands.
type shard struct {
	// ctx is the run's, for the uploads of a remote lake's files.
	ctx    context.Context
	b      *Batch
	m      *lake.Manifest
	dec    *ingest.Decoder
	in     chan []*kgo.Record
	parsed chan *chunk
	free   chan *chunk
	open   map[fileKey]*hourFile
	newest map[int32]time.Time // the parser's newest timed event per partition this run
	files  []lake.File
	// sum: the parser counts Records and ParseErrors, the writer Rows.
	sum  CompactSummary
	seen int64 // the writer's row count, for closeOldest
	// chunks counts the chunks the writer took; touched lists the open
	// files that got rows from the current one (flushTouched).
	chunks  int64
	touched []*hourFile
	// last is the open file the previous row went to, for partition
	// lastPart and the hour starting at lastHour (Unix seconds):
	// consecutive rows nearly always share it, and checking costs less
	// than the hour's truncation and a map lookup a row.
	last     *hourFile
	lastPart int32
	lastHour int64
}

// chunkSize is how many parsed events one chunk carries to the writer;
// parsedQueue how many chunks wait for it.
const (
	chunkSize   = 1024
	parsedQueue = 4
)

// chunk is a run of one partition's records in offset order and their
// events, whose strings borrow the records' bytes until the writer has
// copied them into a file's pages.
type chunk struct {
	recs []*kgo.Record
	evs  []event.Event
	// newest is the partition's newest event time once the chunk was
	// parsed; last marks the end of a fetched slice, where the writer
	// commits the files of hours that newest left behind.
	newest time.Time
	last   bool
}

type fileKey struct {
	partition int32
	hour      time.Time
}

// hourFile is the open lake file of one (partition, hour), and what the
// manifest will say of it.
type hourFile struct {
	s           *lake.Stream
	first, last int64
	rows        int64
	parseErrors int64
	used        int64 // the writer's row count when a row last came
	touched     int64 // the writer's chunk count when a row last came
}

func newShard(ctx context.Context, b *Batch, m *lake.Manifest) *shard {
	return &shard{ctx: ctx, b: b, m: m, dec: b.rules.NewDecoder(), in: make(chan []*kgo.Record, workerQueue),
		parsed: make(chan *chunk, parsedQueue), free: make(chan *chunk, parsedQueue+2),
		open: map[fileKey]*hourFile{}, newest: map[int32]time.Time{}}
}

// run parses record slices until in is closed while its writer writes
// them, then the writer commits every open file. After an error of
// either, or once ctx is done, both keep draining (so fetch never
// blocks) and run returns the error; fail is called with it as soon as
// it happens, to cancel the run's other stages.
func (s *shard) run(ctx context.Context, fail func(error)) error {
	werr := make(chan error, 1)
	go func() { werr <- s.write(ctx, fail) }()
	for recs := range s.in {
		if ctx.Err() != nil {
			continue
		}
		for i := 0; i < len(recs) && ctx.Err() == nil; i += chunkSize {
			c := s.parse(recs[i:min(i+chunkSize, len(recs))])
			c.last = i+chunkSize >= len(recs)
			s.parsed <- c // the writer drains parsed even after an error
		}
	}
	close(s.parsed)
	return <-werr
}

// parse decodes recs (one partition's, in offset order) into a chunk and
// notes what the manifest says of their partition.
func (s *shard) parse(recs []*kgo.Record) *chunk {
	var c *chunk
	select {
	case c = <-s.free:
	default:
		c = &chunk{evs: make([]event.Event, chunkSize)}
	}
	c.recs = recs
	p := recs[0].Partition
	ps := s.m.Partitions[p]
	newest := s.newest[p]
	for i, rec := range recs {
		ev := &c.evs[i]
		// The row's strings are copied into the file's pages before rec goes.
		s.dec.DecodeBorrowed(ev, rec)
		s.sum.Records++
		if ev.ParseError != "" {
			s.sum.ParseErrors++
		}
		if !ev.TimeMissing {
			if ev.Time.After(ps.MaxEventTime) {
				ps.MaxEventTime = ev.Time
			}
			if ev.Time.After(newest) {
				newest = ev.Time
			}
		}
		if rec.Timestamp.After(ps.LastAppend) {
			ps.LastAppend = rec.Timestamp
		}
	}
	ps.Quiet = time.Time{}
	s.newest[p] = newest
	c.newest = newest
	return c
}

// write takes parsed chunks until parsed is closed, then commits every
// open file. After an error (passed to fail at once), or once ctx is
// done, it drains parsed and returns the error.
//
// The rows of a chunk are flushed into their files' column buffers
// (which copy the strings) before its records are recycled: the records'
// memory goes back to the Kafka client's pool (fetchPool), which zeroes
// it and decodes the next batches into it.
func (s *shard) write(ctx context.Context, fail func(error)) error {
	var err error
	for c := range s.parsed {
		if err == nil && ctx.Err() == nil {
			p := c.recs[0].Partition // the records are not read after recycle
			for i, rec := range c.recs {
				if err = s.add(rec, &c.evs[i]); err != nil {
					break
				}
			}
			if err == nil {
				err = s.flushTouched()
			}
			if err == nil {
				recycle(c.recs)
			}
			if err == nil && c.last {
				err = s.closeBehind(p, c.newest)
			}
			if err != nil {
				fail(err)
			}
		}
		c.recs = nil
		select {
		case s.free <- c:
		default:
		}
	}
	if err == nil && ctx.Err() == nil {
		if err = s.closeAll(); err != nil {
			fail(err)
		}
	}
	return err
}

// add writes one parsed record into the open file of its (partition, hour).
func (s *shard) add(rec *kgo.Record, ev *event.Event) error {
	s.seen++
	hf := s.last
	if u := ev.Time.Unix(); hf == nil || rec.Partition != s.lastPart || u < s.lastHour || u >= s.lastHour+3600 {
		hf = s.lookup(rec, ev)
		if hf == nil {
			return s.addNew(rec, ev)
		}
	}
	return s.append(hf, rec, ev)
}

// lookup returns the open file of the record's (partition, hour), or
// nil, and remembers it as the shard's last.
func (s *shard) lookup(rec *kgo.Record, ev *event.Event) *hourFile {
	key := fileKey{rec.Partition, lake.Hour(ev.Time)}
	hf := s.open[key]
	if hf != nil {
		s.last, s.lastPart, s.lastHour = hf, key.partition, key.hour.Unix()
	}
	return hf
}

// addNew opens the file of the record's (partition, hour) and writes the
// record into it.
func (s *shard) addNew(rec *kgo.Record, ev *event.Event) error {
	key := fileKey{rec.Partition, lake.Hour(ev.Time)}
	if len(s.open) >= maxOpen {
		if err := s.closeOldest(); err != nil {
			return err
		}
	}
	st, err := s.b.lake.CreateStream(key.hour, key.partition, rec.Offset)
	if err != nil {
		return fmt.Errorf("compact partition %d: %w", rec.Partition, err)
	}
	hf := &hourFile{s: st, first: rec.Offset, touched: -1}
	s.open[key] = hf
	s.last, s.lastPart, s.lastHour = hf, key.partition, key.hour.Unix()
	return s.append(hf, rec, ev)
}

// append writes one parsed record into its open file hf.
func (s *shard) append(hf *hourFile, rec *kgo.Record, ev *event.Event) error {
	if err := hf.s.Append(ev); err != nil {
		return fmt.Errorf("compact partition %d offset %d: %w", rec.Partition, rec.Offset, err)
	}
	if hf.touched != s.chunks {
		hf.touched = s.chunks
		s.touched = append(s.touched, hf)
	}
	hf.last = rec.Offset
	hf.rows++
	hf.used = s.seen
	if ev.ParseError != "" {
		hf.parseErrors++
	}
	return nil
}

// flushTouched hands the rows gathered by the files that got rows from
// the current chunk to their Parquet writers, so that none borrows the
// chunk's records any more.
func (s *shard) flushTouched() error {
	for _, hf := range s.touched {
		if err := hf.s.Flush(); err != nil {
			return err
		}
	}
	s.touched = s.touched[:0]
	s.chunks++
	return nil
}

// closeBehind commits the files of partition p whose hour ended
// closeAfter before newest, p's newest event time parsed in this run.
func (s *shard) closeBehind(p int32, newest time.Time) error {
	for k := range s.open {
		if k.partition == p && !newest.Before(k.hour.Add(time.Hour+closeAfter)) {
			if err := s.commit(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// closeOldest commits the open file that got a row longest ago.
func (s *shard) closeOldest() error {
	var oldest fileKey
	used := int64(-1)
	for k, hf := range s.open {
		if used < 0 || hf.used < used {
			oldest, used = k, hf.used
		}
	}
	return s.commit(oldest)
}

// closeAll commits every open file.
func (s *shard) closeAll() error {
	for k := range s.open {
		if err := s.commit(k); err != nil {
			return err
		}
	}
	return nil
}

// commit writes the last rows and the footer of one open file and names
// it in the shard's list of new files.
func (s *shard) commit(k fileKey) error {
	hf := s.open[k]
	delete(s.open, k)
	if hf == s.last {
		s.last = nil
	}
	rel, size, err := hf.s.Commit(s.ctx, hf.first, hf.last)
	if err != nil {
		return fmt.Errorf("compact partition %d offsets %d-%d: %w", k.partition, hf.first, hf.last, err)
	}
	s.files = append(s.files, lake.File{Path: rel, Partition: k.partition, FirstOffset: hf.first, LastOffset: hf.last,
		Rows: hf.rows, ParseErrors: hf.parseErrors, Bytes: size, Hour: k.hour, Rules: s.b.rules.ID()})
	s.sum.Rows += hf.rows
	return nil
}

// abort drops the open files of a failed run.
func (s *shard) abort() {
	for k, hf := range s.open {
		hf.s.Abort()
		delete(s.open, k)
	}
	s.last = nil
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
