package ingest_test

import (
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/ingest/ingesttest"
)

// TestDecoderCases feeds the awkward records through the decoder itself;
// speed's and batch's tests feed them through their own paths.
func TestDecoderCases(t *testing.T) {
	dec := ingest.Spec{}.MustParse().NewDecoder()
	recs := ingesttest.Records("logs", 3)
	var ev event.Event
	for i, c := range ingesttest.Cases() {
		dec.Decode(&ev, recs[i])
		ingesttest.Check(t, c, &ev)
		if ev.Topic != "logs" || ev.Partition != 3 || ev.Offset != int64(i) {
			t.Errorf("%s: provenance %s/%d/%d", c.Name, ev.Topic, ev.Partition, ev.Offset)
		}
	}
}
