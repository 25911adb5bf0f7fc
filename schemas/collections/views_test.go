package collections

import (
	"testing"
	"time"
)

func TestDocID(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 7, 59, 0, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		partition int32
		want      string
	}{
		{3, "hot|2026-11-20T09:07Z|p3"},
		{BatchPartition, "hot|2026-11-20T09:07Z"},
	} {
		if got := DocID("hot", at, c.partition); got != c.want {
			t.Errorf("DocID(hot, %v, %d) = %q, want %q", at, c.partition, got, c.want)
		}
	}
}
