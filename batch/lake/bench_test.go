package lake

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/loglambda/loglambda/internal/testkit"
)

// The measurement behind choosing pqarrow (the design named
// xitongsys/parquet-go unless a measurement says otherwise; see
// ARCHITECTURE.md, Dependencies): write the same
// 100k events as one Parquet file with arrow-go's pqarrow, and with DuckDB
// (appender into a table, then COPY ... TO 'x.parquet'). Run with
//
//	go test ./batch/lake/ -run '^$' -bench Parquet -benchtime 3x
//
// The figures go in the commit message; no test asserts on timing.

const benchEvents = 100_000

func BenchmarkParquetPqarrow(b *testing.B) {
	evs := testEvents(0, 0, benchEvents)
	l := tempLake(b)
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		rec := testkit.Record(evs) // building the Arrow batch is part of the cost
		n, err := l.WriteFile(context.Background(), fmt.Sprintf("f%d.parquet", i), rec)
		rec.Release()
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	b.ReportMetric(float64(size), "file-bytes")
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParquetDuckDBCopy(b *testing.B) {
	ctx := context.Background()
	evs := testEvents(0, 0, benchEvents)
	dir := b.TempDir()
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	conn, err := c.Connect(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) {
		if _, err := conn.(driver.ExecerContext).ExecContext(ctx, q, nil); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		exec(`CREATE OR REPLACE TABLE ev (ts TIMESTAMPTZ, time_missing BOOLEAN, ingest_ts TIMESTAMPTZ,
			host VARCHAR, instance VARCHAR, level VARCHAR, component VARCHAR, "user" VARCHAR, ip VARCHAR,
			method VARCHAR, path VARCHAR, query VARCHAR, status INTEGER, bytes BIGINT, latency_ms DOUBLE,
			msg VARCHAR, hot_term VARCHAR, fields VARCHAR, parse_error VARCHAR, format VARCHAR, raw BLOB,
			topic VARCHAR, "partition" INTEGER, "offset" BIGINT)`)
		a, err := duckdb.NewAppenderFromConn(conn, "", "ev")
		if err != nil {
			b.Fatal(err)
		}
		for j := range evs {
			e := &evs[j]
			fields := ""
			if len(e.Fields) > 0 {
				bs, _ := json.Marshal(e.Fields)
				fields = string(bs)
			}
			if err := a.AppendRow(e.Time, e.TimeMissing, e.IngestTime, e.Host, e.Instance, e.Level,
				e.Component, e.User, e.IP, e.Method, e.Path, e.Query, e.Status, e.Bytes, e.LatencyMS,
				e.Msg, e.HotTerm, fields, e.ParseError, e.Format, e.Raw, e.Topic, e.Partition, e.Offset); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("f%d.parquet", i))
		exec(fmt.Sprintf(`COPY ev TO '%s' (FORMAT parquet, COMPRESSION zstd)`, p))
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size = st.Size()
	}
	b.ReportMetric(float64(size), "file-bytes")
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
