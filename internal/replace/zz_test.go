package replace

import (
	"bytes"
	"compress/flate"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/views"
)

func BenchmarkZZFlate(b *testing.B) {
	docs := demoDocs(b, 5*time.Minute)
	st := docs[1][0].Body.(views.Doc).State
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestSpeed)
		w.Write(st)
		w.Close()
	}
	b.ReportMetric(float64(len(st)), "in")
}
