package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/speed"
)

// speedMemoryMiB is speed's default soft memory limit. At 10 M distinct
// users a day over 4 partitions, the most panes a partition may hold
// (speed's backpressure bound, while it reads a backlog) are ~206 MiB of
// state (speed's BenchmarkMemory); without a limit the collector lets the
// heap grow to twice what is live, and a process reading such a backlog
// peaked at 411-478 MiB resident (BenchmarkProcessRSS), near the 512 MiB
// speed is allowed. The limit keeps its Go memory below 448 MiB while
// leaving room for processes that own more partitions (above it the
// collector runs more often, not out of memory).
const speedMemoryMiB = 448

func runSpeed(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := newFlags("speed", "speed [flags]")
	var common commonFlags
	common.register(fs)
	group := fs.String("group", speed.DefaultGroup, "Kafka consumer group; instances in one group share the partitions")
	flushInterval := fs.Duration("flush-interval", speed.DefaultFlushInterval, "how often dirty panes are written to MongoDB")
	hotCapacity := fs.Int("hot-capacity", views.DefaultHotCapacity, "search terms kept per pane and partition (0: exact, unbounded)")
	var member memberFlags
	member.register(fs)
	metricsAddr := fs.String("metrics", "", "serve Prometheus /metrics on this address (e.g. 127.0.0.1:9464); empty: off")
	var memoryMiB int64
	registerMemoryLimit(fs, &memoryMiB, speedMemoryMiB)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := common.validate(); err != nil {
		return err
	}
	if err := checkMemoryLimit(memoryMiB); err != nil {
		return err
	}
	applyMemoryLimit(memoryMiB)
	switch {
	case *flushInterval <= 0:
		return fmt.Errorf("--flush-interval %s must be positive", *flushInterval)
	case *hotCapacity < 0:
		return fmt.Errorf("--hot-capacity %d is negative (0 counts exactly)", *hotCapacity)
	}
	mopts, instance, release, err := member.resolve(*group)
	if err != nil {
		return err
	}
	defer release()
	rec := common.newLayerRecorder("speed", instance)
	opts, db, closeDB, err := common.connect(ctx, rec)
	if err != nil {
		return err
	}
	defer closeDB()
	// How the process ends is recorded: stopped, or blocked and why.
	defer func() { rec.recordEnd(ctx, db, err) }()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts = append(opts, speed.Group(*group), speed.FlushInterval(*flushInterval), speed.HotCapacity(*hotCapacity),
		speed.Registerer(reg))
	s, err := speed.New(db, common.brokerList(), append(opts, mopts...)...)
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		stop, err := serveMetrics(*metricsAddr, reg)
		if err != nil {
			return err
		}
		defer stop()
	}
	err = s.Run(ctx)
	st := s.Stats()
	fmt.Fprintf(stdout, "speed: %d events, %d parse errors, %d late, %d flushes\n", st.Events, st.ParseErrors, st.LateDropped, st.Flushes)
	return err
}

// serveMetrics serves /metrics on addr until stop is called.
func serveMetrics(addr string, reg *prometheus.Registry) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics server", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
